"""The devcloud's Cinder back end: Cinder's own fake driver, with image copies kept in small files.

Runs inside cinder-volume (the devcloud's services venv), never in tcup. Volumes are bookkeeping:
``cinder.tests.fake_driver.FakeLoggingVolumeDriver`` (shipped in the cinder package) needs no
disk, LVM or iSCSI target, and Nova's fake virt driver attaches whatever it is given. What that
driver cannot do is copy an image into a volume or a volume into an image: Cinder's generic code
attaches the volume to this host as a block device. This subclass keeps each volume's data in a
file instead (``volumes_dir``, a sparse MiB for a blank volume, the image bytes for one made from
an image) and copies with Cinder's own image helpers (``qemu-img`` from Debian's qemu-utils),
unprivileged.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from cinder.image import image_utils
from cinder.tests.fake_driver import FakeLoggingVolumeDriver
from oslo_config import cfg

CONF = cfg.CONF
CONF.register_opts([cfg.StrOpt("tcup_volumes_dir", help="Where the devcloud keeps volume data files.")])
_BLANK_BYTES = 1024 * 1024


class FileCopyFakeDriver(FakeLoggingVolumeDriver):  # type: ignore[misc]
    """FakeLoggingVolumeDriver whose volumes have a small data file for image copies."""

    def _data_file(self, volume: Any) -> str:
        directory = CONF.tcup_volumes_dir or os.path.join(CONF.state_path, "tcup-volumes")
        os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, f"volume-{volume['id']}")

    def _blank(self, volume: Any) -> str:
        path = self._data_file(volume)
        if not os.path.exists(path):
            with open(path, "wb") as handle:
                handle.truncate(_BLANK_BYTES)
        return path

    def create_volume(self, volume: Any) -> Any:
        update = super().create_volume(volume)
        self._blank(volume)
        return update

    def delete_volume(self, volume: Any) -> None:
        super().delete_volume(volume)
        try:
            os.unlink(self._data_file(volume))
        except FileNotFoundError:
            pass

    def create_cloned_volume(self, volume: Any, src_vol: Any) -> None:
        super().create_cloned_volume(volume, src_vol)
        shutil.copyfile(self._blank(src_vol), self._data_file(volume))

    def copy_image_to_volume(
        self, context: Any, volume: Any, image_service: Any, image_id: str, disable_sparse: bool = False
    ) -> None:
        image_utils.fetch_to_raw(
            context,
            image_service,
            image_id,
            self._data_file(volume),
            self.configuration.volume_dd_blocksize,
            size=volume["size"],
            run_as_root=False,
            disable_sparse=disable_sparse,
        )

    def copy_volume_to_image(self, context: Any, volume: Any, image_service: Any, image_meta: Any) -> None:
        image_utils.upload_volume(
            context, image_service, image_meta, self._blank(volume), run_as_root=False, compress=False
        )
