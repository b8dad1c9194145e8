"""Lab control for rocketce-power: systemd-nspawn lab hosts, their egress/artifact relays and the HMC simulator.

`hosts`, `procs` and `services` use the standard library only, because `lab/hosts/labhost` runs them with the
system python3 as well as with the project venv. `config`, `inventory` and `cli` (lab/labctl.py) need PyYAML.
"""
