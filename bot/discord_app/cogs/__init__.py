"""App-command cogs: lessons (/lessons, /lesson), runs (/run, /stop), admin (/help, /reload)."""
