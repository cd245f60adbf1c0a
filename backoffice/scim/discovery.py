"""#18: what the SCIM endpoint says about itself (RFC 7643 5-7): only the attributes it keeps,
so that a client (and scim2-tester) sends and expects just those."""

from __future__ import annotations

from typing import Any

from backoffice.scim.services import ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA

__all__ = ["resource_types", "schemas", "service_provider_config"]

_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def _attr(name: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "multiValued": False,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
        "description": name,
    } | extra


def schemas(base: str, departments: list[str]) -> list[dict[str, Any]]:
    """``userName`` is immutable (logins are never given twice: a rename is a user-admin
    case); ``active`` is always said (false: a leaver); a department is one of the units,
    named by its key."""
    user = [
        _attr("userName", required=True, uniqueness="server", mutability="immutable"),
        _attr("name", "complex", subAttributes=[_attr("formatted")]),
        _attr(
            "emails",
            "complex",
            multiValued=True,
            subAttributes=[
                _attr("value"),
                _attr("type", canonicalValues=["work"]),
            ],
        ),
        _attr("active", "boolean", required=True),
    ]
    group = [
        _attr("displayName", required=True, uniqueness="server"),
        _attr(
            "members",
            "complex",
            multiValued=True,
            subAttributes=[
                _attr("value", mutability="immutable"),
                _attr("$ref", "reference", mutability="immutable", referenceTypes=["User"]),
            ],
        ),
    ]
    enterprise = [_attr("department", canonicalValues=departments)]
    rows = [
        (USER_SCHEMA, "User", "A person of the bank", user),
        (GROUP_SCHEMA, "Group", "A group; one the policy maps to a role asks for it", group),
        (ENTERPRISE, "EnterpriseUser", "The person's department: their unit", enterprise),
    ]
    return [
        {
            "schemas": [_SCHEMA],
            "id": uri,
            "name": name,
            "description": description,
            "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{uri}"},
        }
        for uri, name, description, attributes in rows
    ]


def resource_types(base: str) -> list[dict[str, Any]]:
    schema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
    return [
        {
            "schemas": [schema],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "People",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/User"},
        },
        {
            "schemas": [schema],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Groups",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/Group"},
        },
    ]


def service_provider_config(base: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://backoffice.invalid/docs/integration.md",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": 200},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "BACKOFFICE_SCIM_TOKEN in the Authorization header",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base}/ServiceProviderConfig",
        },
    }
