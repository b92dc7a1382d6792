"""Django app: work notifications, their recipients, pacing and polling, and group chats."""
