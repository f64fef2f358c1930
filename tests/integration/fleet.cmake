# The fleet (docs/fleet.md): two real nodes and a real redis-server.
sippacer_integration_test(fleet_pair test_fleet_pair.py)
sippacer_integration_test(fleet_operator test_fleet_operator.py)
sippacer_integration_test(fleet_redis_outage test_fleet_redis_outage.py)
