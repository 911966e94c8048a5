"""Settings of ``openlfr worker``: where camera pipelines run (this process, or a Ray cluster)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RayConfig(_Strict):
    """Camera workers as Ray actors: Ray places them, restarts them and moves them off a dead node.

    Each actor runs one worker (one model session shared by its cameras) and
    asks Ray for ``num_cpus``, ``num_gpus`` and ``resources``; actors are spread
    over the nodes. Ask for less than a node offers if a node's actors should be
    able to restart on the nodes left when one dies.
    """

    address: str | None = Field(
        default=None,
        description=(
            "The cluster to join: 'auto' (the cluster this machine is part of, after "
            "'ray start'), host:port of the head's GCS, or ray://host:10001 (Ray Client)."
        ),
    )
    workers: int = Field(
        default=0,
        ge=0,
        le=4096,
        description="Actors to run; 0: one per node alive when the command starts.",
    )
    num_cpus: float = Field(default=1.0, ge=0, le=1024, description="CPUs each actor reserves.")
    num_gpus: float = Field(default=0.0, ge=0, le=64, description="GPUs each actor reserves.")
    resources: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Custom resources each actor reserves, e.g. {camera_slot = 1} to run actors only on "
            "nodes started with --resources='{\"camera_slot\": 2}'."
        ),
    )
    namespace: str = Field(
        default="openlfr",
        min_length=1,
        description="Ray namespace of the actors' names (one per hub served by the cluster).",
    )
    max_restarts: int = Field(
        default=-1, ge=-1, description="Restarts Ray makes of a dead actor (-1: without end)."
    )
    max_task_retries: int = Field(
        default=-1,
        ge=-1,
        description="Retries of a call to an actor that died during it (-1: without end).",
    )


class WorkerConfig(_Strict):
    """Where ``openlfr worker`` runs its cameras' pipelines."""

    engine: Literal["process", "ray"] = Field(
        default="process",
        description="'process': in this process. 'ray': as actors on a Ray cluster (openlfr[ray]).",
    )
    ray: RayConfig = Field(default_factory=RayConfig)
