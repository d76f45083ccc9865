"""/api/docs/ (Swagger UI) comes from the shop's own static files: nothing from a CDN,
which is unreachable offline and unreliable in mainland China."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_api_docs_reference_only_local_static_files_that_exist(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page), "an outside address"
    assert "cdn" not in page.lower() and "jsdelivr" not in page.lower()
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"missing static file {asset}"
    # The schema it loads is ours, and answers.
    schema_url = re.search(r'\burl: "([^"]+)"', page).group(1)
    assert schema_url == "/api/schema/"
    assert client.get(schema_url).status_code == 200
