"""/api/v1/tenants/<corp_id>/directory/ routes: reads served from the tenant's directory mirror
(the live DingTalk proxy routes are api/routes/directory.py)."""

from django.urls import path

from api.views import directory_mirror as views

D = "tenants/<str:corp_id>/directory/"

urlpatterns = [
    path(f"{D}state/", views.MirrorStateApi.as_view(), name="directory-mirror-state"),
    path(f"{D}departments/", views.MirrorDepartmentListApi.as_view(),
         name="directory-mirror-department-list"),
    path(f"{D}departments/<str:dept_id>/", views.MirrorDepartmentDetailApi.as_view(),
         name="directory-mirror-department-detail"),
    path(f"{D}departments/<str:dept_id>/users/", views.MirrorDepartmentUsersApi.as_view(),
         name="directory-mirror-department-users"),
    path(f"{D}users/", views.MirrorUserListApi.as_view(), name="directory-mirror-user-list"),
    path(f"{D}users/<str:userid>/", views.MirrorUserDetailApi.as_view(),
         name="directory-mirror-user-detail"),
]
