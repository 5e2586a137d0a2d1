"""taskkit 0.2's ``taskkit.contrib``: only ``django`` lived here (see taskkit.contrib.django)."""
