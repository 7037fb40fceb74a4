"""The device class of a viewing, told from the browser's User-Agent.

A pure function: no request, no database. Crude on purpose: the class only
tunes rows by context (a film on the TV in the evening, an episode on the
phone), so a tablet taken for a desktop costs little. Order matters: TVs and
streaming sticks often say "Android" or "Linux", and tablets say "Android"
without "Mobile".
"""

import re

from activity.models import ViewingEvent

Device = ViewingEvent.Device

_TV = re.compile(
    r"smart-?tv|appletv|apple tv|crkey|tizen|web0s|webos|bravia|roku|"
    r"googletv|android ?tv|\baft[a-z]|hbbtv|netcast|viera|philipstv|"
    r"playstation|xbox|\btv\b",
    re.IGNORECASE,
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|\bsm-t\d", re.IGNORECASE)
_MOBILE = re.compile(r"mobile|iphone|ipod|windows phone|opera mini", re.IGNORECASE)
_ANDROID = re.compile(r"android", re.IGNORECASE)


def device_class_from_user_agent(user_agent: str) -> str:
    """``tv``, ``tablet``, ``mobile`` or ``desktop`` (the default, also for "")."""
    if _TV.search(user_agent):
        return Device.TV
    if _TABLET.search(user_agent):
        return Device.TABLET
    if _MOBILE.search(user_agent):
        return Device.MOBILE
    if _ANDROID.search(user_agent):
        # Android phones say "Mobile"; Android without it is a tablet.
        return Device.TABLET
    return Device.DESKTOP
