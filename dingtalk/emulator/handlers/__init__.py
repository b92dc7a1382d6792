"""DingTalk endpoint handlers, one module per area; importing a module registers its routes."""
