"""Channels: one package each, translating a chat platform to and from the core's Inbound / Reply.

Each package declares a `referbot.channels.Channel` as `CHANNEL` and is listed in the
`referbot.channels` entry-point group in pyproject.toml; nothing in `referbot/` names a channel.
"""
