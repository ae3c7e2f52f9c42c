"""Listening: what plays now (shared by every web process through the database), teal.fm
scrobbles written to the listener's PDS, catalogue stats, artist analytics and top tracks."""
