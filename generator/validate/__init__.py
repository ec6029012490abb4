"""Raw input -> typed configuration and event logs; every Problem collected, none raised early."""
