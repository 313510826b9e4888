"""Run by the devcloud services venv's python, never imported by tcup.

    tcup_swift_helper.py rings SWIFT_DIR HOST ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT
    tcup_swift_helper.py serve SWIFT_DIR MODULE CONF

``rings`` builds the account, container and object rings (object-1 serves the second storage
policy) with one device each, in one process instead of a dozen swift-ring-builder calls.

``serve`` runs a Swift server or daemon (``MODULE.main()``) with its configuration read from
SWIFT_DIR. Swift reads ``/etc/swift/swift.conf`` when it is imported, and ``swift_dir`` in a
server's config only re-reads the hash settings, not the storage policies or constraints; so
point Swift at SWIFT_DIR and reload both before handing over.

``drop_syslog`` is a ``log_custom_handlers`` hook: it removes the syslog handler Swift always
adds, so that the console handler (``-v``) writing to the devcloud log is the only one.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any


def drop_syslog(
    conf: dict[str, str],
    name: str,
    log_to_console: bool,
    log_route: str,
    fmt: str,
    logger: logging.Logger,
    adapted_logger: Any,
) -> None:
    from swift.common.utils import logs

    handler = getattr(logs.get_swift_logger, "handler4logger", {}).get(logger)
    if handler is not None:
        logger.removeHandler(handler)
        handler.close()


def build_rings(swift_dir: str, host: str, account_port: str, container_port: str, object_port: str) -> None:
    from swift.common.ring import RingBuilder

    ports = {
        "account": account_port,
        "container": container_port,
        "object": object_port,
        "object-1": object_port,
    }
    for ring, port in ports.items():
        # NOTE: 2**3 partitions, 1 replica, 1 hour between moves. One disk needs few partitions, and the
        # container-updater forks a process per partition on every sweep: with 2**10 it kept both CPUs
        # busy once a few hundred containers had come and gone.
        builder = RingBuilder(3, 1, 1)
        builder.add_dev({"region": 1, "zone": 1, "ip": host, "port": int(port), "device": "sdb1", "weight": 1})
        builder.rebalance()
        builder.get_ring().save(f"{swift_dir}/{ring}.ring.gz")
        builder.save(f"{swift_dir}/{ring}.builder")


def serve(swift_dir: str, module: str, conf: str) -> int:
    from swift.common import constraints, storage_policy, utils

    utils.set_swift_dir(swift_dir)
    storage_policy.reload_storage_policies()
    constraints.reload_constraints()
    entry = importlib.import_module(module)
    sys.argv = [module, conf, "-v"]
    return int(entry.main() or 0)


def main(argv: list[str]) -> int:
    if len(argv) == 6 and argv[0] == "rings":
        build_rings(*argv[1:])
        return 0
    if len(argv) == 4 and argv[0] == "serve":
        return serve(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
