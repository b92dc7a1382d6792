"""/api/v1/tenants/<corp_id>/ routes: the directory (departments, users, the token's scopes).

Order matters where a fixed word could be read as a userid: `users/count/` and
`users/by-unionid/<unionid>/` come before `users/<userid>/...`, so a user whose userid is
"count" cannot be read here by it (nor the parent departments of a user named "by-unionid").
Department ids are taken as text and checked by the view, so a negative or oversized id is a
400 naming the field rather than a 404 for an unknown path.
"""

from django.urls import path

from api.views import directory as views

T = "tenants/<str:corp_id>/"

urlpatterns = [
    path(f"{T}departments/", views.DepartmentListApi.as_view(), name="department-list"),
    path(f"{T}departments/<str:dept_id>/", views.DepartmentDetailApi.as_view(),
         name="department-detail"),
    path(f"{T}departments/<str:dept_id>/sub-ids/", views.DepartmentSubIdsApi.as_view(),
         name="department-sub-ids"),
    path(f"{T}departments/<str:dept_id>/parents/", views.DepartmentParentsApi.as_view(),
         name="department-parents"),
    path(f"{T}departments/<str:dept_id>/member-ids/", views.DepartmentMemberIdsApi.as_view(),
         name="department-member-ids"),
    path(f"{T}departments/<str:dept_id>/members/", views.DepartmentMembersApi.as_view(),
         name="department-members"),
    path(f"{T}users/count/", views.UserCountApi.as_view(), name="user-count"),
    path(f"{T}users/by-unionid/<str:unionid>/", views.UserByUnionidApi.as_view(),
         name="user-by-unionid"),
    path(f"{T}users/<str:userid>/", views.UserDetailApi.as_view(), name="user-detail"),
    path(f"{T}users/<str:userid>/parent-departments/", views.UserParentDepartmentsApi.as_view(),
         name="user-parent-departments"),
    path(f"{T}auth-scopes/", views.AuthScopesApi.as_view(), name="auth-scopes"),
]
