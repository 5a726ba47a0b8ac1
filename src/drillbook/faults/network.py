"""Network partitions: a service cut from the lab network, or from one peer by packet filtering."""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import dataclass

import docker

from drillbook.environments.docker import DockerLab
from drillbook.environments.services import service as service_spec
from drillbook.errors import LabError
from drillbook.waiting import Check

__all__ = ["BlockPeer", "DisconnectNetwork"]


@dataclass(frozen=True)
class DisconnectNetwork:
    """Take the service off the lab network: peers cannot reach it by name, nor it them."""

    service: str

    @property
    def name(self) -> str:
        return f"partition {self.service} from the lab network"

    def inject(self, lab: DockerLab) -> None:
        network = lab.client.networks.get(lab.settings.network_name)
        network.disconnect(lab.settings.container_name(self.service))

    def verify_active(self, lab: DockerLab) -> Check:
        c = lab.container(self.service)
        c.reload()
        attached = lab.settings.network_name in (c.attrs["NetworkSettings"]["Networks"] or {})
        return Check(not attached, "attached" if attached else "disconnected")

    def revert(self, lab: DockerLab) -> None:
        spec = service_spec(self.service, lab.settings.catalog)
        network = lab.client.networks.get(lab.settings.network_name)
        c = lab.container(self.service)
        c.reload()
        if lab.settings.network_name not in (c.attrs["NetworkSettings"]["Networks"] or {}):
            network.connect(c, aliases=[spec.name, *spec.aliases])


@dataclass(frozen=True)
class BlockPeer:
    """Drop the service's traffic to ``peer_port`` inside its own network namespace (iptables;
    needs NET_ADMIN). ``peer_port`` 5432 cuts it from PostgreSQL, 6379 from Redis, 8101/8102
    from the exchanges."""

    service: str
    peer_port: int
    more_ports: tuple[int, ...] = ()  # cut several peers at once (both exchanges: 8101, 8102)

    @property
    def _ports(self) -> list[int]:
        return [int(self.peer_port), *(int(p) for p in self.more_ports)]

    @property
    def name(self) -> str:
        ports = self._ports
        if len(ports) == 1:
            return f"block {self.service} -> port {ports[0]}"
        return f"block {self.service} -> ports {', '.join(map(str, ports))}"

    @property
    def _rule(self) -> str:
        ports = self._ports
        match = (
            f"--dport {ports[0]}"
            if len(ports) == 1
            else f"-m multiport --dports {','.join(map(str, ports))}"
        )
        return f"OUTPUT -p tcp {match} -j REJECT --reject-with tcp-reset"

    def _iptables(self, lab: DockerLab, action: str) -> tuple[int, str]:
        c = lab.container(self.service)
        cmd = f"iptables {action} {self._rule}"
        code, out = c.exec_run(["sh", "-c", cmd], user="root")
        return code, out.decode(errors="replace") if isinstance(out, bytes) else str(out)

    def inject(self, lab: DockerLab) -> None:
        code, out = self._iptables(lab, "-I")
        if code != 0:
            raise LabError(
                f"could not filter packets in {self.service}: {out.strip()}",
                hint="the service needs cap_add NET_ADMIN and iptables in its image",
            )

    def _running(self, lab: DockerLab) -> bool:
        c = lab.container(self.service)
        c.reload()
        return bool(c.status == "running")

    def verify_active(self, lab: DockerLab) -> Check:
        if not self._running(lab):
            return Check(False, f"{self.service} not running: the rule went with its namespace")
        code, _ = self._iptables(lab, "-C")
        return Check(
            code == 0, f"rule {'present' if code == 0 else 'absent'}: {shlex.quote(self._rule)}"
        )

    def revert(self, lab: DockerLab) -> None:
        # a stopped or killed container lost the rule with its network namespace (a start makes
        # a new one), and exec into it fails: nothing is left to remove
        with contextlib.suppress(LabError):
            for _ in range(10):  # bounded: remove every copy of the rule
                if not self._running(lab):
                    return
                try:
                    code, _ = self._iptables(lab, "-D")
                except docker.errors.APIError:
                    if not self._running(lab):  # killed meanwhile: the rule went with it
                        return
                    raise
                if code != 0:
                    break
