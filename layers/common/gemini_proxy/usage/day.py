"""Google's quota day: it rolls at midnight US Pacific, whatever the server's time zone."""

from datetime import UTC, datetime

from gemini_proxy.upstream.classify import PACIFIC, seconds_until_pacific_midnight


def quota_day(now: float) -> tuple[str, float]:
    """The day holding `now` (epoch seconds) as `YYYY-MM-DD`, and when it ends (epoch)."""
    moment = datetime.fromtimestamp(now, UTC)
    day = moment.astimezone(PACIFIC).date().isoformat()
    return day, now + seconds_until_pacific_midnight(moment)
