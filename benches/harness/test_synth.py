"""Unit tests of synth.py: the record rules must match BEHAVIOUR.md section 4, or the zone NSD
and Knot serve would not be equivalent to ours.

    python3 -m unittest discover benches/harness
"""
import argparse
import json
import os
import random
import tempfile
import unittest

import synth


def small_state():
    a = argparse.Namespace(tasks=7, frameworks=2, agents=3, master_port=5050)
    return synth.make_state(a, random.Random(7))


class HashTest(unittest.TestCase):
    def test_spec_4_2_hash_vectors(self):
        self.assertEqual(synth.task_hash("test"), "iffe9")
        self.assertEqual(synth.task_hash("liquor-store.b8db9f73-562f-11e4-a088-c20493233aa5"), "4dfjd")
        self.assertEqual(synth.task_hash("toy-store.b8db9f73-562f-11e4-a088-c20493233aa5"), "go588")


class RecordsTest(unittest.TestCase):
    def test_spec_4_7_task_names_and_srv_targets(self):
        state = small_state()
        recs = synth.records_of(state, 5050)
        fw = state["frameworks"][0]
        t = fw["tasks"][0]
        slave = next(s for s in state["slaves"] if s["id"] == t["slave_id"])
        slave_ip = slave["pid"].split("@")[1].split(":")[0]
        task_ip = t["statuses"][0]["container_status"]["network_infos"][0]["ip_addresses"][0]["ip_address"]
        canonical = "%s-%s-%s.%s" % (t["name"], synth.task_hash(t["id"]),
                                     t["slave_id"].split("-")[-1].lower(), fw["name"])
        self.assertIn(task_ip, recs["As"]["%s.%s.mesos." % (t["name"], fw["name"])])
        self.assertEqual(recs["As"][canonical + ".mesos."], [task_ip])
        self.assertEqual(recs["As"][canonical + ".slave.mesos."], [slave_ip])
        lo = int(t["resources"]["ports"].strip("[]").split("-")[0])
        for owner in ("_%s._tcp.%s.mesos.", "_%s._udp.%s.mesos.",
                      "_%s._tcp.%s.slave.mesos.", "_%s._udp.%s.slave.mesos."):
            vals = recs["SRVs"][owner % (t["name"], fw["name"])]
            self.assertIn("%s.slave.mesos.:%d" % (canonical, lo), vals)
            self.assertIn("%s.slave.mesos.:%d" % (canonical, lo + 1), vals)

    def test_spec_4_4_to_4_10_infrastructure_records(self):
        recs = synth.records_of(small_state(), 5050)
        for n in ("leader.mesos.", "master.mesos.", "master0.mesos.", "ns1.mesos."):
            self.assertEqual(recs["As"][n], ["127.0.0.1"])
        self.assertEqual(recs["SRVs"]["_leader._tcp.mesos."], ["leader.mesos.:5050"])
        self.assertEqual(recs["SRVs"]["_leader._udp.mesos."], ["leader.mesos.:5050"])
        self.assertEqual(recs["SRVs"]["_slave._tcp.mesos."], ["slave.mesos.:5051"])
        self.assertEqual(len(recs["As"]["slave.mesos."]), 3)
        self.assertEqual(recs["SRVs"]["_framework._tcp.marathon.mesos."], ["marathon.mesos.:8080"])
        self.assertNotIn("_master._tcp.mesos.", recs["SRVs"])

    def test_non_running_tasks_give_no_records(self):
        state = small_state()
        t = state["frameworks"][0]["tasks"][0]
        t["state"] = "TASK_KILLED"
        recs = synth.records_of(state, 5050)
        canonical = "%s-%s-" % (t["name"], synth.task_hash(t["id"]))
        self.assertFalse([n for n in recs["As"] if n.startswith(canonical)])


class FilesTest(unittest.TestCase):
    def test_zone_and_queries(self):
        recs = synth.records_of(synth.make_state(argparse.Namespace(
            tasks=500, frameworks=5, agents=50, master_port=5050), random.Random(1)), 5050)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "records.json")
            with open(path, "w") as f:
                json.dump(recs, f)
            n = synth.write_zone(synth.load_records(path), os.path.join(d, "zone"))
            self.assertEqual(n, 3 + sum(map(len, recs["As"].values())) + sum(map(len, recs["SRVs"].values())))
            synth.cmd_queries(argparse.Namespace(records=path, outfile=os.path.join(d, "q"),
                                                 count=10000, seed=1, expect=False))
            lines = open(os.path.join(d, "q")).read().split("\n")[:-1]
        srv = sum(1 for x in lines if x.endswith(" SRV"))
        nx = sum(1 for x in lines if x.lower().startswith("nx-"))
        self.assertTrue(1800 < srv < 2200, srv)
        self.assertTrue(800 < nx < 1200, nx)
        mixed = sum(1 for x in lines if x.split()[0] != x.split()[0].lower())
        self.assertTrue(4000 < mixed < 6000, mixed)

    def test_differences_names_each_differing_name(self):
        empty = {"As": {}, "AAAAs": {}, "SRVs": {}}
        one = {"As": {"a.mesos.": ["10.0.0.1"]}, "AAAAs": {}, "SRVs": {}}
        self.assertEqual(synth.differences(empty, empty), [])
        self.assertEqual(synth.differences(empty, one),
                         ["As a.mesos.: expected None, got ['10.0.0.1']"])


if __name__ == "__main__":
    unittest.main()
