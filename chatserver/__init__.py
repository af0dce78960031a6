"""GEM community server: live chat, forums, spreekuren and content for the eCommunities."""

__version__ = "0.1.0"
