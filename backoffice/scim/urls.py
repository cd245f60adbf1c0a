from django.urls import path

from backoffice.scim import views

urlpatterns = [
    path("ServiceProviderConfig", views.service_provider_config, name="scim_config"),
    path("Schemas", views.schemas, name="scim_schemas"),
    path("Schemas/<str:schema_id>", views.schemas, name="scim_schema"),
    path("ResourceTypes", views.resource_types, name="scim_resource_types"),
    path("ResourceTypes/<str:type_id>", views.resource_types, name="scim_resource_type"),
    path(".search", views.search_everything, name="scim_search"),
    path("Users/.search", views.search, {"kind": "Users"}, name="scim_users_search"),
    path("Groups/.search", views.search, {"kind": "Groups"}, name="scim_groups_search"),
    path("Users", views.users, name="scim_users"),
    path("Users/<str:scim_id>", views.user, name="scim_user"),
    path("Groups", views.groups, name="scim_groups"),
    path("Groups/<str:scim_id>", views.group, name="scim_group"),
    path("", views.not_found, name="scim_root"),
    path("<path:rest>", views.not_found, name="scim_not_found"),
]
