"""Where the steps of a run execute: in the run's own process (the default), or on Celery
workers (dagster-celery) that pull them from a broker, GPU steps from their own queue.

`MIR_EXECUTOR` chooses: `in_process` (the default: the steps of a run share its models,
decoded audio and intermediates) or `celery`. The Celery settings are read at run time
from the YAML file every worker is started with (`dagster-celery worker start -y FILE`),
named by `MIR_CELERY_CONFIG` (default: config/celery.yaml), so that runs and workers
cannot disagree on the broker. Its `execution.config` block is dagster-celery's own
(broker, result backend, Celery settings: the default queue is the CPU queue); its
`queues` block says which steps go to the GPU queue: every asset that holds the GPU pool
(`processing.gpu_pool`), and the assets listed in `gpu_assets`. A step that carries
dagster-celery's queue tag itself keeps it.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from dagster import (
    ExecutorDefinition,
    Field,
    StringSource,
    executor,
    in_process_executor,
    multiple_process_executor_requirements,
)
from dagster._config import post_process_config, validate_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.plan.step import ExecutionStep
from dagster._core.execution.retries import RetryMode
from dagster_celery.cli import get_config_value_from_yaml
from dagster_celery.core_execution_loop import core_celery_execution_loop
from dagster_celery.executor import CeleryExecutor, _submit_task, celery_executor
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from mir.config import load_config

DEFAULT_CELERY_CONFIG = Path(__file__).resolve().parent.parent / "config" / "celery.yaml"


class QueuedCeleryExecutor(CeleryExecutor):
    """dagster-celery's executor, with the GPU steps tagged for the GPU queue."""

    def __init__(self, *, gpu_queue: str, gpu_pools: set[str], gpu_assets: set[str], **kwargs):
        super().__init__(**kwargs)
        self.gpu_queue = gpu_queue
        self.gpu_pools = gpu_pools
        self.gpu_assets = gpu_assets

    def queue_of(self, step: ExecutionStep) -> str | None:
        """The GPU queue for a step of a GPU asset; None (the default queue) for the rest."""
        if step.tags.get(DAGSTER_CELERY_QUEUE_TAG):
            return step.tags[DAGSTER_CELERY_QUEUE_TAG]
        if step.pool in self.gpu_pools or step.key in self.gpu_assets:
            return self.gpu_queue
        return None

    def execute(self, plan_context, execution_plan: ExecutionPlan):
        return core_celery_execution_loop(
            plan_context, self._with_queues(execution_plan), step_execution_fn=_submit_task
        )

    def _with_queues(self, plan: ExecutionPlan) -> ExecutionPlan:
        # dagster-celery routes a step by its queue tag; assets cannot add an op tag
        # per deployment, so the plan's steps get it here
        def tagged(step):
            queue = self.queue_of(step) if isinstance(step, ExecutionStep) else None
            if queue is None or step.tags.get(DAGSTER_CELERY_QUEUE_TAG) == queue:
                return step
            return step._replace(tags={**step.tags, DAGSTER_CELERY_QUEUE_TAG: queue})

        step_dict = {handle: tagged(step) for handle, step in plan.step_dict.items()}
        return plan._replace(
            step_dict=step_dict, step_dict_by_key={s.key: s for s in step_dict.values()}
        )


def read_celery_config(path: str | Path) -> tuple[dict, dict]:
    """`(execution config, queues)` of a worker YAML file, its environment values resolved.

    Raises
    ------
    dagster.DagsterInvalidConfigError
        When the file does not match dagster-celery's executor config, or names an
        environment variable that is not set.
    """
    queues = (yaml.safe_load(Path(path).read_text()) or {}).get("queues") or {}
    raw = get_config_value_from_yaml(str(path))
    config_type = celery_executor.config_schema.config_type
    for result in (validate_config(config_type, raw), post_process_config(config_type, raw)):
        if not result.success:
            raise DagsterInvalidConfigError(f"Celery config {path}:", result.errors, raw)
    return post_process_config(config_type, raw).value, queues


@executor(
    name="celery",
    config_schema={
        "config_yaml": Field(
            StringSource,
            default_value=os.environ.get("MIR_CELERY_CONFIG", str(DEFAULT_CELERY_CONFIG)),
            description="The YAML file the Celery workers start with (broker, queues).",
        )
    },
    requirements=multiple_process_executor_requirements(),
)
def queued_celery_executor(init_context) -> QueuedCeleryExecutor:
    """Steps on Celery workers: GPU assets on the `queues.gpu` queue, the rest on Celery's
    default queue (`task_default_queue`), as config/celery.yaml describes."""
    config, queues = read_celery_config(init_context.executor_config["config_yaml"])
    return QueuedCeleryExecutor(
        broker=config.get("broker"),
        backend=config.get("backend"),
        include=config.get("include"),
        config_source=config.get("config_source"),
        retries=RetryMode.from_config(config["retries"]),
        gpu_queue=queues.get("gpu", "gpu"),
        gpu_pools={load_config().processing.gpu_pool},
        gpu_assets=set(queues.get("gpu_assets") or []),
    )


EXECUTORS: dict[str, ExecutorDefinition] = {
    "in_process": in_process_executor,
    "celery": queued_celery_executor,
}


def executor_from_env() -> ExecutorDefinition:
    """The executor `MIR_EXECUTOR` names (default `in_process`)."""
    name = os.environ.get("MIR_EXECUTOR", "in_process")
    if name not in EXECUTORS:
        raise ValueError(f"MIR_EXECUTOR={name!r}: choose one of {', '.join(EXECUTORS)}")
    return EXECUTORS[name]
