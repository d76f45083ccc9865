"""Campaigns, segments, journeys and surveys will live here (the coupon engine's records
are members'): marketing reads orders and members and writes through their services."""
