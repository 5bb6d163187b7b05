"""Notifications: nudges, closing the loop, preparing the welcome."""
