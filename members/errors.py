from django.utils.translation import gettext_lazy as _

from o2o.errors import ApplicationError, ConflictError


class PointsInsufficient(ConflictError):
    code = "points_insufficient"


class PointsInvalid(ApplicationError):
    code = "points_invalid"


NOT_ENOUGH_POINTS = _("You have %(balance)s points; %(wanted)s cannot be used.")
