"""The Dagster code location: track-partitioned assets over the `mir` library."""

import warnings

from dagster import BetaWarning, PreviewWarning

from mir.config import load_config
from mir.gpu import apply_rocm_env
from mir.quiet import quiet_libraries

# the location uses two Dagster features on purpose (BackfillPolicy for batch runs,
# partitioned asset checks): their beta/preview notices are for us, not for a user
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)
quiet_libraries()

#: the configuration as it was when the code location loaded: what definitions are built
#: from (backfill batch size, GPU pool, sensor interval); assets read theirs at run time
DEFINITION_CONFIG = load_config()

# ROCm and PyTorch read their variables once, when torch is first imported: export the
# `rocm:` section of master_pipeline.yaml (shell exports win) as soon as this package is
# imported, before any asset module can import torch
apply_rocm_env(DEFINITION_CONFIG.rocm)
