%% @doc Snapshots on demand and the size of the log beside the snapshot.
%% Internal: for the benchmark, tests and operators. A store snapshots by
%% itself, by the rules of its `machine_config' (README, "Snapshots and
%% compaction"); `snapshot/1,2' builds one now, for instance to shorten the
%% log a restart replays, or to time a build.
-module(khepri_compaction).

-export([snapshot/1, snapshot/2, info/1]).

-type build() :: #{index := non_neg_integer(),
                   bytes := non_neg_integer(),
                   build_us := non_neg_integer()}.
-type info() :: #{snapshot_index := non_neg_integer(),
                  snapshot_bytes := non_neg_integer(),
                  log_bytes := non_neg_integer(),
                  log_disk_bytes := non_neg_integer(),
                  entries_since := non_neg_integer(),
                  builds := non_neg_integer()}.
-export_type([build/0, info/0]).

-define(DEFAULT_TIMEOUT, 300000).

%% @doc Same as `snapshot(StoreId, 300000)'.
-spec snapshot(atom()) -> {ok, build()} | {error, term()}.
snapshot(StoreId) ->
    snapshot(StoreId, ?DEFAULT_TIMEOUT).

%% @doc Builds a snapshot of everything the local member applied before the
%% call and returns once it is durable (written, fsynced, renamed, its
%% directory fsynced): the last log index it covers, its size, and the
%% build's duration from the tree's capture to that last fsync. A build
%% already under way is waited for first. The log behind the snapshot is
%% purged right after.
-spec snapshot(atom(), non_neg_integer()) -> {ok, build()} | {error, term()}.
snapshot(StoreId, Timeout)
  when is_atom(StoreId), is_integer(Timeout), Timeout >= 0 ->
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            Ref = make_ref(),
            ok = khepri_nif:snapshot(Engine, Ref, Timeout),
            %% The engine answers within Timeout; the margin covers its
            %% last wake-up.
            receive
                {Ref, {ok, _} = Built} -> Built;
                {Ref, {error, Reason}} -> {error, Reason}
            after Timeout + 5000 ->
                {error, timeout}
            end;
        error ->
            {error, noproc}
    end.

%% @doc What the local member's newest snapshot and its log hold now: the
%% last index the snapshot covers and its size (0 and 0 without one), the
%% bytes of log records after it, the bytes the log's segment files take on
%% disk (preallocated space included), the entries applied since the last
%% build began, and the builds finished since the store started.
-spec info(atom()) -> {ok, info()} | {error, noproc}.
info(StoreId) when is_atom(StoreId) ->
    case khepri_store:engine(StoreId) of
        {ok, Engine} -> {ok, khepri_nif:compaction_info(Engine)};
        error -> {error, noproc}
    end.
