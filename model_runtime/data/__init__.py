"""Dataset building and reading (landmarks -> SMPL-X clips -> quality control -> splits)."""
