package lakesoults.interop;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONArray;
import com.alibaba.fastjson.JSONObject;
import com.dmetasoul.lakesoul.meta.DBManager;
import com.dmetasoul.lakesoul.meta.DBUtil;
import com.dmetasoul.lakesoul.meta.DataFileInfo;
import com.dmetasoul.lakesoul.meta.DataOperation;
import com.dmetasoul.lakesoul.meta.entity.CommitOp;
import com.dmetasoul.lakesoul.meta.entity.DataCommitInfo;
import com.dmetasoul.lakesoul.meta.entity.DataFileOp;
import com.dmetasoul.lakesoul.meta.entity.FileOp;
import com.dmetasoul.lakesoul.meta.entity.MetaInfo;
import com.dmetasoul.lakesoul.meta.entity.PartitionInfo;
import com.dmetasoul.lakesoul.meta.entity.TableInfo;
import com.dmetasoul.lakesoul.meta.entity.Uuid;
import com.dmetasoul.lakesoul.meta.jnr.NativeUtils;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A command-line probe of LakeSoul's Java metadata layer (lakesoul-common 2.6.2), which LakeSoul's
 * Spark and Flink connectors use to read and commit table metadata. It only calls that library's
 * public API.
 *
 * Input: one JSON object on stdin, {"command": "describe" | "snapshot" | "commit", "native": bool, ...}.
 * Output: one line on stdout, "@@probe " + a JSON object (the marker keeps it apart from anything the
 * library or its native code prints); an error is {"error": ..., "stack": ...} and exit code 2.
 *
 * The PostgreSQL connection comes from the environment the way lakesoul-common reads it
 * (DBUtil.getDBInfo): LAKESOUL_PG_URL, LAKESOUL_PG_USERNAME, LAKESOUL_PG_PASSWORD (or a properties
 * file named by LAKESOUL_HOME / lakesoul_home).
 *
 * "native": lakesoul-common 2.6.2 runs its catalog queries and commits through its bundled Rust
 * library (liblakesoul_metadata_c.so, via jnr-ffi) by default, as the engines do; false switches its
 * DAOs to their plain JDBC code (NativeUtils' public flags, read on every call). That code needs
 * `?stringtype=unspecified` on LAKESOUL_PG_URL, and in 2.6.2 it reads but cannot commit (see
 * docs/interop.md).
 */
public final class LakeSoulMetaProbe {
  private static final String MARK = "@@probe ";

  public static void main(String[] args) {
    int code = 0;
    JSONObject out;
    try (InputStream in = System.in) {
      JSONObject req = JSON.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      boolean nativeMeta = req.getBooleanValue("native");
      NativeUtils.NATIVE_METADATA_QUERY_ENABLED = nativeMeta;
      NativeUtils.NATIVE_METADATA_UPDATE_ENABLED = nativeMeta;
      DBManager db = new DBManager();
      String command = req.getString("command");
      switch (command) {
        case "describe": out = describe(db, req); break;
        case "snapshot": out = snapshot(db, req); break;
        case "commit": out = commit(db, req); break;
        default: throw new IllegalArgumentException("unknown command " + command);
      }
    } catch (Throwable t) {
      out = new JSONObject();
      out.put("error", String.valueOf(t));
      java.io.StringWriter sw = new java.io.StringWriter();
      t.printStackTrace(new java.io.PrintWriter(sw));
      out.put("stack", sw.toString());
      code = 2;
    }
    System.out.println(MARK + out.toJSONString());
    System.out.flush();
    // Hikari's pool and the native runtime keep threads alive: end the JVM here.
    System.exit(code);
  }

  /** The table entry by namespace and name, parsed as DBManager's callers parse it. */
  private static TableInfo table(DBManager db, JSONObject req) {
    TableInfo info = db.getTableInfoByNameAndNamespace(req.getString("name"), req.getString("namespace"));
    if (info == null) throw new IllegalStateException("table not found: " + req.getString("namespace") + "." + req.getString("name"));
    return info;
  }

  /** {"command":"describe","namespace":..,"name":..} */
  private static JSONObject describe(DBManager db, JSONObject req) {
    TableInfo info = table(db, req);
    // table_info.partitions: "range1,range2;pk1,pk2"
    DBUtil.TablePartitionKeys keys = DBUtil.parseTableInfoPartitions(info.getPartitions());
    JSONObject props = DBUtil.stringToJSON(info.getProperties());
    JSONObject out = new JSONObject(true);
    out.put("tableId", info.getTableId());
    out.put("namespace", info.getTableNamespace());
    out.put("name", info.getTableName());
    out.put("path", info.getTablePath());
    out.put("partitions", info.getPartitions());
    out.put("rangeKeys", keys.rangeKeys);
    out.put("primaryKeys", keys.primaryKeys);
    out.put("hashBucketNum", props.getString("hashBucketNum"));
    out.put("properties", props);
    out.put("schema", info.getTableSchema());
    out.put("domain", info.getDomain());
    // The table is found by its path and listed in its namespace too (the engines look it up both ways).
    TableInfo byPath = db.getTableInfoByPath(info.getTablePath());
    out.put("tableIdByPath", byPath == null ? null : byPath.getTableId());
    out.put("tablesInNamespace", db.listTableNamesByNamespace(info.getTableNamespace()));
    try {
      out.put("partitionDescs", db.getTableAllPartitionDesc(info.getTableId()));
    } catch (RuntimeException e) {
      // 2.6.2's JDBC fallback of this call runs "select different(partition_desc) from partition_info"
      // (no such function, no table filter) and always fails: report it instead of failing describe.
      out.put("partitionDescsError", String.valueOf(e));
    }
    return out;
  }

  /**
   * {"command":"snapshot","namespace":..,"name":..}: per partition (sorted by partition_desc) the
   * latest version (DBManager.getAllPartitionInfo), its commits in snapshot order
   * (getTableSinglePartitionDataInfo), and the live files as DataOperation.getTableDataInfo resolves
   * them (the call Spark's reader lists a table's files with), in its order.
   */
  private static JSONObject snapshot(DBManager db, JSONObject req) {
    TableInfo info = table(db, req);
    List<PartitionInfo> parts = new ArrayList<>(db.getAllPartitionInfo(info.getTableId()));
    parts.sort(Comparator.comparing(PartitionInfo::getPartitionDesc));

    // Live files of the whole table, grouped by partition in the order returned.
    Map<String, JSONArray> live = new LinkedHashMap<>();
    for (DataFileInfo f : DataOperation.getTableDataInfo(parts)) {
      JSONObject file = new JSONObject(true);
      file.put("path", f.path());
      file.put("size", f.size());
      file.put("existCols", f.file_exist_cols());
      file.put("bucket", f.file_bucket_id());
      live.computeIfAbsent(f.range_partitions(), k -> new JSONArray()).add(file);
    }

    JSONArray partitions = new JSONArray();
    for (PartitionInfo p : parts) {
      JSONObject part = new JSONObject(true);
      part.put("partitionDesc", p.getPartitionDesc());
      part.put("parsedDesc", DBUtil.parsePartitionDesc(p.getPartitionDesc()));
      part.put("version", p.getVersion());
      part.put("commitOp", p.getCommitOp().name());
      part.put("timestamp", p.getTimestamp());
      List<String> snap = new ArrayList<>();
      for (Uuid u : p.getSnapshotList()) snap.add(DBUtil.toJavaUUID(u).toString());
      part.put("snapshot", snap);
      JSONArray commits = new JSONArray();
      for (DataCommitInfo c : db.getTableSinglePartitionDataInfo(p)) {
        JSONObject commit = new JSONObject(true);
        commit.put("commitId", DBUtil.toJavaUUID(c.getCommitId()).toString());
        commit.put("commitOp", c.getCommitOp().name());
        commit.put("committed", c.getCommitted());
        JSONArray ops = new JSONArray();
        for (DataFileOp op : c.getFileOpsList()) {
          ops.add(new JSONObject(true).fluentPut("path", op.getPath()).fluentPut("op", op.getFileOp().name())
              .fluentPut("size", op.getSize()).fluentPut("existCols", op.getFileExistCols()));
        }
        commit.put("fileOps", ops);
        commits.add(commit);
      }
      part.put("commits", commits);
      part.put("files", live.getOrDefault(p.getPartitionDesc(), new JSONArray()));
      partitions.add(part);
    }
    return new JSONObject(true).fluentPut("tableId", info.getTableId()).fluentPut("partitions", partitions);
  }

  /**
   * {"command":"commit","namespace":..,"name":..,"commitOp":"MergeCommit"|"AppendCommit",
   *  "via":"commitData"|"commitDataCommitInfo",
   *  "partitions":[{"partitionDesc":..,"files":[{"path":..,"size":..,"existCols":"a,b"}]}]}
   *
   * via "commitData" (how Spark's writer commits): all partitions' DataCommitInfo rows inserted
   * uncommitted by batchCommitDataCommitInfo, then one commitData(MetaInfo) adding a version to each.
   * via "commitDataCommitInfo" (how Flink's committer commits): one call per partition.
   */
  private static JSONObject commit(DBManager db, JSONObject req) {
    TableInfo info = table(db, req);
    CommitOp op = CommitOp.valueOf(req.getString("commitOp"));
    String via = req.getString("via");
    long now = System.currentTimeMillis();
    List<DataCommitInfo> commits = new ArrayList<>();
    JSONObject ids = new JSONObject(true);
    for (Object o : req.getJSONArray("partitions")) {
      JSONObject part = (JSONObject) o;
      UUID commitId = UUID.randomUUID();
      DataCommitInfo.Builder c = DataCommitInfo.newBuilder()
          .setTableId(info.getTableId())
          .setPartitionDesc(part.getString("partitionDesc"))
          .setCommitId(DBUtil.toProtoUuid(commitId))
          .setCommitOp(op)
          .setTimestamp(now)
          .setCommitted(false)
          .setDomain(info.getDomain());
      for (Object f : part.getJSONArray("files")) {
        JSONObject file = (JSONObject) f;
        c.addFileOps(DataFileOp.newBuilder().setPath(file.getString("path")).setFileOp(FileOp.add)
            .setSize(file.getLongValue("size")).setFileExistCols(file.getString("existCols")));
      }
      commits.add(c.build());
      ids.put(part.getString("partitionDesc"), commitId.toString());
    }

    boolean ok = true;
    if ("commitDataCommitInfo".equals(via)) {
      // Appends and merges read nothing: no read partition versions.
      for (DataCommitInfo c : commits) db.commitDataCommitInfo(c, new ArrayList<>());
    } else if ("commitData".equals(via)) {
      if (!db.batchCommitDataCommitInfo(commits)) throw new IllegalStateException("batchCommitDataCommitInfo failed");
      MetaInfo.Builder meta = MetaInfo.newBuilder().setTableInfo(info);
      for (DataCommitInfo c : commits) {
        meta.addListPartition(PartitionInfo.newBuilder()
            .setTableId(info.getTableId())
            .setPartitionDesc(c.getPartitionDesc())
            .setCommitOp(op)
            .addSnapshot(c.getCommitId())
            .setDomain(info.getDomain()));
      }
      ok = db.commitData(meta.build(), false, op);
    } else {
      throw new IllegalArgumentException("unknown via " + via);
    }
    return new JSONObject(true).fluentPut("ok", ok).fluentPut("commitIds", ids);
  }
}
