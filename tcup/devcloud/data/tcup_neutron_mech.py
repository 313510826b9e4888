"""An ML2 mechanism driver for the devcloud: binds every normal port and marks it ACTIVE.

Runs inside neutron-server (the devcloud's services venv), never in tcup. There is no L2 agent
and no hypervisor: Nova's fake virt driver plugs nothing. Without a driver that binds, Nova fails
every boot with PortBindingFailed. Neutron's own ``openvswitch`` and ``fake_agent`` drivers bind
only where a live agent has reported, and its ``test`` driver only for magic host names, with
in-memory state that breaks across API workers. This one binds the first segment offered, as an
Open vSwitch port with port filtering, and sets the port ACTIVE as an agent would once wired.

Registered as ``tcup_loopback`` under ``neutron.ml2.mechanism_drivers`` by the entry-point file
the devcloud writes next to this module (``tcup_devcloud_neutron-1.0.dist-info``).
"""

from __future__ import annotations

from typing import Any

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api

_BINDABLE_VNICS = (portbindings.VNIC_NORMAL,)


class LoopbackMechanismDriver(api.MechanismDriver):  # type: ignore[misc]
    """Bind every normal port to its first segment, ACTIVE at once."""

    def initialize(self) -> None:
        """Nothing to set up: no agent, no back end."""

    @property
    def connectivity(self) -> str:
        return str(portbindings.CONNECTIVITY_L2)

    def bind_port(self, context: Any) -> None:
        """Bind ``context``'s port to the first segment it may use."""
        if context.current.get(portbindings.VNIC_TYPE, portbindings.VNIC_NORMAL) not in _BINDABLE_VNICS:
            return
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
