"""Shapes of the real server's replies, taken from the 8.1.2.0 transcripts.

The key order and the values of everything the simulator does not model (it has no data path, so
objects, tombstones, latencies and the like stay at the idle values a real empty node reports) come
from ``fixtures/aerospike-8.1.2.0/single-node.txt``. Values that change with the cluster (size, key,
generation, migrations, uptime, connection counters, the configuration) are filled in by
``info.py``; the names of those keys are listed there.

Each template is ``key=value`` pairs separated by ``;`` or a newline (the newlines only keep the
lines short). The per-stripe entries of a namespace are generated, so they are not in NAMESPACE.
"""

STATISTICS = """\
failed_best_practices=true;cluster_size=1;cluster_key=26A14B640BE9;cluster_generation=1
cluster_principal=BB90306000A4202;cluster_min_compatibility_id=15;cluster_max_compatibility_id=15
cluster_integrity=true;cluster_is_member=true;cluster_duplicate_nodes=null
cluster_clock_skew_stop_writes_sec=0;cluster_clock_skew_ms=0;cluster_clock_skew_outliers=null;uptime=5
system_total_cpu_pct=0;system_user_cpu_pct=0;system_kernel_cpu_pct=0;system_free_mem_kbytes=22979376
system_free_mem_pct=93;host_free_mem_kbytes=22979376;host_free_mem_pct=93;system_thp_mem_kbytes=0
process_cpu_pct=0;threads_joinable=8;threads_detached=75;threads_pool_total=21;threads_pool_active=21
heap_allocated_kbytes=2271123;heap_active_kbytes=2288220;heap_mapped_kbytes=2324992;heap_efficiency_pct=99
heap_site_count=0;objects=0;tombstones=0;info_queue=0;rw_in_progress=0;proxy_in_progress=0;tree_gc_queue=0
client_connections=3;client_connections_opened=7;client_connections_closed=4;admin_connections=0
admin_connections_opened=0;admin_connections_closed=0;heartbeat_connections=0;heartbeat_connections_opened=0
heartbeat_connections_closed=0;fabric_connections=0;fabric_connections_opened=0;fabric_connections_closed=0
heartbeat_received_self=0;heartbeat_received_foreign=0;reaped_fds=0;info_complete=6;info_timeout=0
demarshal_error=0;early_tsvc_client_error=0;early_tsvc_from_proxy_error=0
early_tsvc_from_proxy_batch_sub_error=0;long_queries_active=0;batch_index_initiate=0;batch_index_queue=0:0,0:0
batch_index_complete=0;batch_index_error=0;batch_index_timeout=0;batch_index_delay=0
batch_index_unused_buffers=0;batch_index_huge_buffers=0;batch_index_created_buffers=0
batch_index_destroyed_buffers=0;batch_index_proto_uncompressed_pct=0.000
batch_index_proto_compression_ratio=1.000;paxos_principal=BB90306000A4202;time_since_rebalance=2
migrate_allowed=true;migrate_partitions_remaining=0;fabric_bulk_send_rate=0;fabric_bulk_recv_rate=0
fabric_ctrl_send_rate=0;fabric_ctrl_recv_rate=0;fabric_meta_send_rate=0;fabric_meta_recv_rate=0
fabric_rw_send_rate=0;fabric_rw_recv_rate=0;deprecated_requests=3
"""

NAMESPACE = """\
ns_cluster_size=1;effective_replication_factor=1;objects=0;tombstones=0;xdr_tombstones=0;xdr_bin_cemeteries=0
mrt_provisionals=0;master_objects=0;master_tombstones=0;prole_objects=0;prole_tombstones=0
non_replica_objects=0;non_replica_tombstones=0;unreplicated_records=0;dead_partitions=0
unavailable_partitions=0;auto_revived_partitions=0;clock_skew_stop_writes=false;stop_writes=false
hwm_breached=false;current_time=533005755;non_expirable_objects=0;expired_objects=0;evicted_objects=0
evict_ttl=0;evict_void_time=0;smd_evict_void_time=0;nsup_cycle_duration=0;nsup_cycle_deleted_pct=0.00
nsup_xdr_key_busy=0;truncate_lut=0;truncating=false;sindex_gc_cleaned=0;mrt_monitors=0;mrt_monitors_active=0
xmem_id=0;index_used_bytes=0;set_index_used_bytes=0;sindex_used_bytes=0;data_total_bytes=1073741824
data_used_bytes=0;data_used_pct=0;data_avail_pct=93;data_compression_ratio=1.000
record_proto_uncompressed_pct=0.000;record_proto_compression_ratio=1.000;query_proto_uncompressed_pct=0.000
query_proto_compression_ratio=1.000;pending_quiesce=false;effective_is_quiesced=false;nodes_quiesced=0
effective_prefer_uniform_balance=false;effective_active_rack=0;migrate_tx_partitions_imbalance=0
migrate_tx_instances=0;migrate_rx_instances=0;migrate_tx_partitions_active=0;migrate_rx_partitions_active=0
migrate_tx_partitions_initial=0;migrate_tx_partitions_remaining=0;migrate_tx_partitions_lead_remaining=0
migrate_rx_partitions_initial=0;migrate_rx_partitions_remaining=0;migrate_records_skipped=0
migrate_records_transmitted=0;migrate_record_retransmits=0;migrate_record_receives=0
migrate_records_unreadable=0;migrate_signals_active=0;migrate_signals_remaining=0
migrate_fresh_partitions=4096;appeals_tx_active=0;appeals_rx_active=0;appeals_tx_remaining=0
appeals_records_exonerated=0;client_tsvc_error=0;client_tsvc_timeout=0;client_proxy_complete=0
client_proxy_error=0;client_proxy_timeout=0;client_read_success=0;client_read_error=0;client_read_timeout=0
client_read_not_found=0;client_read_filtered_out=0;client_write_success=0;client_write_error=0
client_write_timeout=0;client_write_filtered_out=0;xdr_client_write_success=0;xdr_client_write_error=0
xdr_client_write_timeout=0;client_delete_success=0;client_delete_error=0;client_delete_timeout=0
client_delete_not_found=0;client_delete_filtered_out=0;xdr_client_delete_success=0;xdr_client_delete_error=0
xdr_client_delete_timeout=0;xdr_client_delete_not_found=0;client_udf_complete=0;client_udf_error=0
client_udf_timeout=0;client_udf_filtered_out=0;client_lang_read_success=0;client_lang_write_success=0
client_lang_delete_success=0;client_lang_error=0;from_proxy_tsvc_error=0;from_proxy_tsvc_timeout=0
from_proxy_read_success=0;from_proxy_read_error=0;from_proxy_read_timeout=0;from_proxy_read_not_found=0
from_proxy_read_filtered_out=0;from_proxy_write_success=0;from_proxy_write_error=0;from_proxy_write_timeout=0
from_proxy_write_filtered_out=0;xdr_from_proxy_write_success=0;xdr_from_proxy_write_error=0
xdr_from_proxy_write_timeout=0;from_proxy_delete_success=0;from_proxy_delete_error=0
from_proxy_delete_timeout=0;from_proxy_delete_not_found=0;from_proxy_delete_filtered_out=0
xdr_from_proxy_delete_success=0;xdr_from_proxy_delete_error=0;xdr_from_proxy_delete_timeout=0
xdr_from_proxy_delete_not_found=0;from_proxy_udf_complete=0;from_proxy_udf_error=0;from_proxy_udf_timeout=0
from_proxy_udf_filtered_out=0;from_proxy_lang_read_success=0;from_proxy_lang_write_success=0
from_proxy_lang_delete_success=0;from_proxy_lang_error=0;batch_sub_tsvc_error=0;batch_sub_tsvc_timeout=0
batch_sub_proxy_complete=0;batch_sub_proxy_error=0;batch_sub_proxy_timeout=0;batch_sub_read_success=0
batch_sub_read_error=0;batch_sub_read_timeout=0;batch_sub_read_not_found=0;batch_sub_read_filtered_out=0
batch_sub_write_success=0;batch_sub_write_error=0;batch_sub_write_timeout=0;batch_sub_write_filtered_out=0
batch_sub_delete_success=0;batch_sub_delete_error=0;batch_sub_delete_timeout=0;batch_sub_delete_not_found=0
batch_sub_delete_filtered_out=0;batch_sub_udf_complete=0;batch_sub_udf_error=0;batch_sub_udf_timeout=0
batch_sub_udf_filtered_out=0;batch_sub_lang_read_success=0;batch_sub_lang_write_success=0
batch_sub_lang_delete_success=0;batch_sub_lang_error=0;from_proxy_batch_sub_tsvc_error=0
from_proxy_batch_sub_tsvc_timeout=0;from_proxy_batch_sub_read_success=0;from_proxy_batch_sub_read_error=0
from_proxy_batch_sub_read_timeout=0;from_proxy_batch_sub_read_not_found=0
from_proxy_batch_sub_read_filtered_out=0;from_proxy_batch_sub_write_success=0
from_proxy_batch_sub_write_error=0;from_proxy_batch_sub_write_timeout=0
from_proxy_batch_sub_write_filtered_out=0;from_proxy_batch_sub_delete_success=0
from_proxy_batch_sub_delete_error=0;from_proxy_batch_sub_delete_timeout=0
from_proxy_batch_sub_delete_not_found=0;from_proxy_batch_sub_delete_filtered_out=0
from_proxy_batch_sub_udf_complete=0;from_proxy_batch_sub_udf_error=0;from_proxy_batch_sub_udf_timeout=0
from_proxy_batch_sub_udf_filtered_out=0;from_proxy_batch_sub_lang_read_success=0
from_proxy_batch_sub_lang_write_success=0;from_proxy_batch_sub_lang_delete_success=0
from_proxy_batch_sub_lang_error=0;udf_sub_tsvc_error=0;udf_sub_tsvc_timeout=0;udf_sub_udf_complete=0
udf_sub_udf_error=0;udf_sub_udf_timeout=0;udf_sub_udf_filtered_out=0;udf_sub_lang_read_success=0
udf_sub_lang_write_success=0;udf_sub_lang_delete_success=0;udf_sub_lang_error=0;ops_sub_tsvc_error=0
ops_sub_tsvc_timeout=0;ops_sub_write_success=0;ops_sub_write_error=0;ops_sub_write_timeout=0
ops_sub_write_filtered_out=0;dup_res_ask=0;dup_res_respond_read=0;dup_res_respond_no_read=0
retransmit_all_read_dup_res=0;retransmit_all_write_dup_res=0;retransmit_all_delete_dup_res=0
retransmit_all_udf_dup_res=0;retransmit_all_batch_sub_read_dup_res=0;retransmit_all_batch_sub_write_dup_res=0
retransmit_all_batch_sub_delete_dup_res=0;retransmit_all_batch_sub_udf_dup_res=0;retransmit_udf_sub_dup_res=0
retransmit_ops_sub_dup_res=0;retransmit_all_read_repl_ping=0;retransmit_all_batch_sub_read_repl_ping=0
retransmit_all_write_repl_write=0;retransmit_all_delete_repl_write=0;retransmit_all_udf_repl_write=0
retransmit_all_batch_sub_write_repl_write=0;retransmit_all_batch_sub_delete_repl_write=0
retransmit_all_batch_sub_udf_repl_write=0;retransmit_udf_sub_repl_write=0;retransmit_ops_sub_repl_write=0
pi_query_short_basic_complete=0;pi_query_short_basic_error=0;pi_query_short_basic_timeout=0
pi_query_long_basic_complete=0;pi_query_long_basic_error=0;pi_query_long_basic_abort=0
pi_query_aggr_complete=0;pi_query_aggr_error=0;pi_query_aggr_abort=0;pi_query_udf_bg_complete=0
pi_query_udf_bg_error=0;pi_query_udf_bg_abort=0;pi_query_ops_bg_complete=0;pi_query_ops_bg_error=0
pi_query_ops_bg_abort=0;si_query_short_basic_complete=0;si_query_short_basic_error=0
si_query_short_basic_timeout=0;si_query_long_basic_complete=0;si_query_long_basic_error=0
si_query_long_basic_abort=0;si_query_aggr_complete=0;si_query_aggr_error=0;si_query_aggr_abort=0
si_query_udf_bg_complete=0;si_query_udf_bg_error=0;si_query_udf_bg_abort=0;si_query_ops_bg_complete=0
si_query_ops_bg_error=0;si_query_ops_bg_abort=0;geo_region_query_reqs=0;geo_region_query_cells=0
geo_region_query_points=0;geo_region_query_falsepos=0;read_touch_tsvc_error=0;read_touch_tsvc_timeout=0
read_touch_success=0;read_touch_error=0;read_touch_timeout=0;read_touch_skip=0;re_repl_tsvc_error=0
re_repl_tsvc_timeout=0;re_repl_success=0;re_repl_error=0;re_repl_timeout=0;mrt_verify_read_success=0
mrt_verify_read_error=0;mrt_verify_read_timeout=0;mrt_roll_forward_success=0;mrt_roll_forward_error=0
mrt_roll_forward_timeout=0;mrt_monitor_roll_forward_success=0;mrt_monitor_roll_forward_error=0
mrt_monitor_roll_forward_timeout=0;mrt_roll_back_success=0;mrt_roll_back_error=0;mrt_roll_back_timeout=0
mrt_monitor_roll_back_success=0;mrt_monitor_roll_back_error=0;mrt_monitor_roll_back_timeout=0
fail_xdr_forbidden=0;fail_key_busy=0;fail_xdr_key_busy=0;fail_generation=0;fail_record_too_big=0
fail_client_lost_conflict=0;fail_xdr_lost_conflict=0;fail_mrt_blocked=0;fail_mrt_version_mismatch=0
deleted_last_bin=0;mrt_monitor_roll_tombstone_creates=0;ttl_reductions_ignored=0;ttl_reductions_applied=0
active-rack=0;allow-ttl-without-nsup=false;apply-ttl-reductions=true;auto-revive=false
background-query-max-rps=10000;conflict-resolution-policy=generation;conflict-resolve-writes=false
default-read-touch-ttl-pct=0;default-ttl=0;disable-cold-start-eviction=false;disable-mrt-writes=false
disable-write-dup-res=false;disallow-expunge=false;disallow-null-setname=false
enable-benchmarks-batch-sub=false;enable-benchmarks-ops-sub=false;enable-benchmarks-read=false
enable-benchmarks-udf=false;enable-benchmarks-udf-sub=false;enable-benchmarks-write=false
enable-hist-proxy=false;evict-hist-buckets=10000;evict-indexes-memory-pct=0;evict-tenths-pct=5
force-long-queries=false;ignore-migrate-fill-delay=false;index-stage-size=1073741824;indexes-memory-budget=0
inline-short-queries=false;max-record-size=1048576;migrate-order=5;migrate-retransmit-ms=5000
migrate-skip-unreadable=false;migrate-sleep=1;mrt-duration=0;nsup-hist-period=3600;nsup-period=120
nsup-threads=1;partition-tree-sprigs=256;prefer-uniform-balance=false;rack-id=0
read-consistency-level-override=off;reject-non-xdr-writes=false;reject-xdr-writes=false;replication-factor=2
sindex-stage-size=1073741824;single-query-threads=4;stop-writes-sys-memory-pct=90;strong-consistency=false
strong-consistency-allow-expunge=false;tomb-raider-eligible-age=86400;tomb-raider-period=86400
tomb-raider-unmark-threads=0;transaction-pending-limit=20;truncate-threads=4;write-commit-level-override=off
xdr-bin-tombstone-ttl=86400;xdr-tomb-raider-period=120;xdr-tomb-raider-threads=1
geo2dsphere-within.strict=true;geo2dsphere-within.min-level=1;geo2dsphere-within.max-level=20
geo2dsphere-within.max-cells=12;geo2dsphere-within.level-mod=1;geo2dsphere-within.earth-radius-meters=6371000
index-type=mem;sindex-type=mem;storage-engine=memory;storage-engine.commit-to-device=false
storage-engine.compression=none;storage-engine.compression-acceleration=0;storage-engine.compression-level=0
storage-engine.data-size=1073741824;storage-engine.defrag-lwm-pct=50;storage-engine.defrag-queue-min=0
storage-engine.defrag-sleep=1000;storage-engine.defrag-startup-minimum=0;storage-engine.direct-files=false
storage-engine.disable-odsync=false;storage-engine.enable-benchmarks-storage=false
storage-engine.encryption-key-file=null;storage-engine.encryption-old-key-file=null
storage-engine.evict-used-pct=0;storage-engine.filesize=0;storage-engine.flush-max-ms=1000
storage-engine.max-write-cache=67108864;storage-engine.stop-writes-avail-pct=5
storage-engine.stop-writes-used-pct=70;storage-engine.tomb-raider-sleep=1000
"""

NETWORK = """\
service.port=3000;service.address=eth0;service.access-port=0;service.alternate-access-port=0
service.tls-port=0;service.tls-access-port=0;service.tls-alternate-access-port=0;service.tls-name=null
service.disable-localhost=false;admin.port=3003;admin.address=eth0;admin.tls-port=0;admin.tls-name=null
admin.disable-localhost=false;heartbeat.mode=mesh;heartbeat.address=eth0;heartbeat.port=3002
heartbeat.tls-port=0;heartbeat.tls-name=null;heartbeat.interval=150;heartbeat.timeout=10
heartbeat.connect-timeout-ms=500;heartbeat.mtu=1450;heartbeat.protocol=v3;fabric.address=eth0
fabric.tls-port=0;fabric.tls-name=null;fabric.channel-bulk-fds=2;fabric.channel-bulk-recv-threads=4
fabric.channel-ctrl-fds=1;fabric.channel-ctrl-recv-threads=4;fabric.channel-meta-fds=1
fabric.channel-meta-recv-threads=4;fabric.channel-rw-fds=8;fabric.channel-rw-recv-pools=1
fabric.channel-rw-recv-threads=16;fabric.keepalive-enabled=true;fabric.keepalive-intvl=1
fabric.keepalive-probes=10;fabric.keepalive-time=1;fabric.latency-max-ms=5;fabric.port=3001
fabric.recv-rearm-threshold=1024;fabric.send-threads=8
"""


def pairs(template):
    """The ``(key, value)`` pairs of a template, in order."""
    out = []
    for line in template.splitlines():
        for item in line.split(";"):
            if item:
                key, _sep, value = item.partition("=")
                out.append((key, value))
    return out
