"""Python clients of the lakesoul-ts Arrow Flight server.

``lakesoul_ts.spark`` holds the Spark data source (format ``"lakesoul_ts"``); register it with
``lakesoul_ts.spark.register(spark)``. See docs/flight.md, section "Spark".
"""

__all__ = ["spark"]
