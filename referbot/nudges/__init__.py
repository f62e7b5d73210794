"""The nudger's parts: office-hours arithmetic, the rules (pure), the notes, and their storage.

The public API — `due_nudges`, `render_nudges`, `act_on_nudge`, `run_nudger` — is `referbot.nudger`.
"""
