"""``python grader.py batch``: grade a whole class folder on one machine or an existing Ray cluster.

:mod:`intake` reads submissions safely, :mod:`student` grades one student with the course's
grader, :mod:`runner` runs the class (serial, ``--jobs``, cache, retries), :mod:`ray_backend`
sends students to a Ray cluster, and :mod:`classreport` writes class.csv/.json/.html.
"""
