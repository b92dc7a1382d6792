"""/api/v1/tenants/<corp_id>/ routes: group chats (internal-app tenants only)."""

from django.urls import path

from api.views import chats as views

T = "tenants/<str:corp_id>/"

urlpatterns = [
    path(f"{T}chats/", views.ChatCreateApi.as_view(), name="chat-create"),
    path(f"{T}chats/<str:chat_id>/", views.ChatDetailApi.as_view(), name="chat-detail"),
    path(f"{T}chats/<str:chat_id>/messages/", views.ChatMessageSendApi.as_view(),
         name="chat-message-send"),
    # ?message_id=: DingTalk's messageIds may hold "/" (api/views/chats.py).
    path(f"{T}chat-message-readers/", views.ChatMessageReadersApi.as_view(),
         name="chat-message-readers"),
]
