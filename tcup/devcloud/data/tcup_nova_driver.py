"""The devcloud's Nova virt driver: Nova's fake driver, whose snapshots upload a blank disk.

Runs inside nova-compute (the devcloud's services venv), never in tcup. Nova's fake driver keeps
instances as bookkeeping only, with no hypervisor. Its single-node variant
(``FakeDriverWithoutFakeNodes``) keeps its node's identity in ``state_path/compute_id`` as real
drivers do, so nova-compute starts again on a kept state (the plain ``FakeDriver`` makes up a new
node id in every process, and Nova then refuses to start). Its ``snapshot`` sets the
task state and uploads nothing, so the snapshot image stays ``queued`` and every client waiting
for it times out. A fake instance's disk holds nothing, so this driver uploads what it holds: a
small blank raw disk, with the metadata the libvirt driver would send. The rest of the snapshot
flow (Nova's API, task states, Glance's image records) is Nova's own.
"""

from __future__ import annotations

import io
from typing import Any

from nova.image import glance
from nova.virt.fake import FakeDriverWithoutFakeNodes

_BLANK_DISK = b"\0" * (1024 * 1024)


class LoopbackFakeDriver(FakeDriverWithoutFakeNodes):  # type: ignore[misc]
    """Nova's single-node fake driver whose snapshots finish: the image gets a blank 1 MiB raw disk."""

    def snapshot(self, context: Any, instance: Any, image_id: str, update_task_state: Any) -> None:
        super().snapshot(context, instance, image_id, update_task_state)  # checks the instance runs
        image_api = glance.API()
        snapshot = image_api.get(context, image_id)
        metadata = {
            "status": "active",
            "name": snapshot["name"],
            "disk_format": "raw",
            "container_format": "bare",
            "properties": {"image_location": "snapshot", "image_state": "available", "owner_id": instance.project_id},
        }
        image_api.update(context, image_id, metadata, io.BytesIO(_BLANK_DISK), purge_props=False)
