"""Placeholder replaced below."""
def assess_fit(profile, facts, label):
    raise NotImplementedError
