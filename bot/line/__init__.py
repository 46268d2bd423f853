"""The LINE channel (issue 10): webhook, reply and push through line-bot-sdk v3's async client."""
