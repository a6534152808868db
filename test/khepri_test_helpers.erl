%% @doc Shared helpers of the EUnit suites: temporary data directories,
%% waiting on conditions with a deadline, distribution for peer nodes.
-module(khepri_test_helpers).

-export([flip_byte/2, tmp_dir/1, with_store/2, as_default_store/2, wait_until/2, ensure_distributed/0,
         peer_args/0, engine_log_index/1]).

%% @doc A fresh, empty directory under the system's temp dir.
tmp_dir(Prefix) ->
    Base = filename:basedir(user_cache, "khepri-rs-tests"),
    Dir = filename:join(Base, Prefix ++ "-" ++ os:getpid() ++ "-" ++
                            integer_to_list(erlang:unique_integer([positive]))),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    Dir.

%% @doc Runs `Fun(StoreId, DataDir)' against a store started in a fresh
%% directory, then stops the store and removes the directory.
with_store(StoreId, Fun) ->
    Dir = tmp_dir(atom_to_list(StoreId)),
    {ok, StoreId} = khepri:start(Dir, StoreId),
    try
        Fun(StoreId, Dir)
    after
        ok = khepri:stop(StoreId),
        _ = file:del_dir_r(Dir)
    end.

%% @doc Runs `Fun()' with `StoreId' as the application's default store,
%% restoring the previous default afterwards.
as_default_store(StoreId, Fun) ->
    Saved = application:get_env(khepri, default_store_id),
    ok = application:set_env(khepri, default_store_id, StoreId),
    try
        Fun()
    after
        case Saved of
            {ok, V} -> application:set_env(khepri, default_store_id, V);
            undefined -> application:unset_env(khepri, default_store_id)
        end
    end.

%% @doc Polls `Pred()' until it returns true; fails after `TimeoutMs'.
wait_until(Pred, TimeoutMs) ->
    Deadline = erlang:monotonic_time(millisecond) + TimeoutMs,
    wait_until_deadline(Pred, Deadline).

wait_until_deadline(Pred, Deadline) ->
    case Pred() of
        true ->
            ok;
        false ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> erlang:error(condition_not_met_in_time);
                false -> receive after 10 -> ok end,
                         wait_until_deadline(Pred, Deadline)
            end
    end.

%% @doc Makes this node distributed (short names on loopback) if it is not.
ensure_distributed() ->
    case is_alive() of
        true ->
            ok;
        false ->
            _ = os:cmd("epmd -daemon"),
            Name = list_to_atom("khepri_test_" ++ os:getpid()),
            {ok, _} = net_kernel:start([Name, shortnames]),
            ok
    end.

%% @doc Arguments giving a peer node this node's code path (minus OTP's).
peer_args() ->
    Root = code:root_dir(),
    lists:append([["-pa", P] || P <- code:get_path(),
                                not lists:prefix(Root, P), P =/= "."]).

%% @doc The last index of the store's local log.
engine_log_index(StoreId) ->
    {ok, Engine} = khepri_store:engine(StoreId),
    khepri_nif:last_log_index(Engine).

%% @doc Damages one byte of `File' at `Offset' (a bit flipped), in place.
flip_byte(File, Offset) ->
    {ok, Fd} = file:open(File, [read, write, raw, binary]),
    try
        {ok, <<B>>} = file:pread(Fd, Offset, 1),
        ok = file:pwrite(Fd, Offset, <<(B bxor 16#20)>>)
    after
        file:close(Fd)
    end.
