"""Which kind of device a request came from, by its User-Agent (a rough, honest split)."""

import re

from .models import Device

_TABLET = re.compile(r"iPad|Tablet|PlayBook|Silk|Android(?!.*Mobile)", re.IGNORECASE)
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Android.*Mobile|Windows Phone|HarmonyOS", re.IGNORECASE)
_APP = re.compile(r"MiniProgram|okhttp|Dalvik|CFNetwork|o2o-app", re.IGNORECASE)
_BROWSER = re.compile(r"Mozilla|Opera", re.IGNORECASE)


def device_of(user_agent: str | None) -> str:
    """desktop / mobile / tablet / app, or "" when the User-Agent says nothing useful."""
    agent = (user_agent or "")[:512]
    if not agent:
        return Device.UNKNOWN
    if _APP.search(agent):
        return Device.APP
    if _MOBILE.search(agent):
        return Device.MOBILE
    if _TABLET.search(agent):
        return Device.TABLET
    if _BROWSER.search(agent):
        return Device.DESKTOP
    return Device.UNKNOWN
