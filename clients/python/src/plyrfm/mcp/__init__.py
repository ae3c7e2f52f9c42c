"""The MCP server `plyrfm mcp`: plyr's music as tools, a prompt and resources for AI
clients (Claude Desktop and others), on the official MCP SDK over the plyrfm SDK.

`command.py` is the CLI command (the CLI registers it); `server.py` builds the server;
the tools are in `tools_catalogue.py` (no token needed), `tools_account.py` and
`tools_upload.py` (a developer token); `resources.py` and `prompts.py` the rest;
`shapes.py` the records the tools answer with. Nothing heavy is imported here, so the
CLI starts fast."""
