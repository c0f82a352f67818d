"""Moved to ``services.authz`` (authorization is a rule of the use cases, not of the dialogue); this name stays
until every importer uses the new one."""

from services.authz import (  # noqa: F401
    ALLOW,
    PRIVILEGED_ROLES,
    Action,
    Decision,
    authorize,
    can_review_request,
    may_act_as_chair,
    units_acted_on,
)
