"""The moderation domain: rules per flavour, crisis detection, tiers, queue, decisions, audit (pure)."""
