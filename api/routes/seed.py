"""The seed gateway's eighteen POST routes under /api/dingtalkserve/ (SEED.md)."""

from django.urls import path

from api.views import seed

urlpatterns = [
    path("asyncsend_v2", seed.SeedAsyncSendApi.as_view(), name="seed-asyncsend_v2"),
    path("createChat", seed.SeedCreateChatApi.as_view(), name="seed-createChat"),
    path("chatSend", seed.SeedChatSendApi.as_view(), name="seed-chatSend"),
    *(path(route, view.as_view(), name=f"seed-{route}")
      for route, view in seed.SEED_CALL_VIEWS.items()),
]
