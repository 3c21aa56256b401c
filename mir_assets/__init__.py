"""The Dagster code location: track-partitioned assets over the `mir` library.

Nothing is read at import: :mod:`mir_assets.definitions` builds the location from the
configuration when Dagster (or `mir run`) asks for it.
"""

import warnings

from dagster import BetaWarning, PreviewWarning

from mir.quiet import quiet_libraries

# the location uses two Dagster features on purpose (BackfillPolicy for batch runs,
# partitioned asset checks): their beta/preview notices are for us, not for a user
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)
quiet_libraries()
