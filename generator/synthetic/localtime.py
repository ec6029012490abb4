"""Local wall-clock time in numpy.

Civil dates from day numbers, UTC offsets from the time zone database, and a
wall time moved out of a DST gap or overlap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator.synthetic.profile import I64

# --------------------------------------------------------------------------- text


def civil(days: I64) -> tuple[I64, I64, I64]:
    """Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant's algorithm)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def utc_offsets(wall: I64, timezone: str) -> tuple[I64, I64]:
    """(wall seconds, offset seconds): wall times that do not exist move forward by the gap."""
    if timezone == "UTC" or len(wall) == 0:
        return wall, np.zeros(len(wall), dtype=np.int64)
    uniq, inverse = np.unique(wall, return_inverse=True)
    local = pd.DatetimeIndex(uniq.astype("datetime64[s]")).tz_localize(
        timezone, ambiguous=np.ones(len(uniq), dtype=bool), nonexistent="shift_forward"
    )
    utc = local.tz_convert("UTC").tz_localize(None).as_unit("s").asi8
    offset = np.asarray(local.tz_localize(None).as_unit("s").asi8 - utc, dtype=np.int64)
    fixed = np.asarray(utc + offset, dtype=np.int64)
    return fixed[inverse], offset[inverse]


def exists_once(wall: I64, timezone: str) -> I64:
    """Move naive wall times out of a DST gap or repeated hour (an hour on), so they read exactly."""
    if timezone == "UTC" or len(wall) == 0:
        return wall
    uniq, inverse = np.unique(wall, return_inverse=True)
    local = pd.DatetimeIndex(uniq.astype("datetime64[s]")).tz_localize(
        timezone, ambiguous="NaT", nonexistent="NaT"
    )
    bad = np.asarray(local.isna())[inverse]
    return np.where(bad, wall + 3600, wall)
