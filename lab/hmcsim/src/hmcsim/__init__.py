"""HMC simulator: an SSH server that speaks the IBM HMC command line (rocketce-power lab)."""
