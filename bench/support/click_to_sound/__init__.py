"""What `click_to_sound.py` is made of: a local ATProto network, `plyr serve` and a
signed-in listener who uploads real tracks through the API (`library`), and the clicks in
headless Chromium timed in the page (`clicks`)."""
