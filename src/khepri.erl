%% @doc The Khepri API: a tree-like, Raft-replicated store.
%%
%% Functions taking a store id choose their clause by `is_atom(FirstArg)'
%% (paths are lists or binaries, never atoms); forms without a store id use
%% the default store (SPEC 1.1). Reads are served by the local member's
%% current tree version; writes go through the Raft log and return once the
%% local member applied them.
-module(khepri).

-include("khepri.hrl").

-export([start/0, start/1, start/2, start/3,
         stop/0, stop/1,
         get_store_ids/0,
         put/2, put/3, put/4,
         get/1, get/2, get/3,
         exists/1, exists/2, exists/3,
         delete/1, delete/2, delete/3,
         info/0, info/1, info/2]).

-type store_id() :: atom().
-type ok_or_error() :: ok | {error, term()}.
-export_type([store_id/0]).

%% -------------------------------------------------------------------
%% Service.
%% -------------------------------------------------------------------

%% @doc Starts the default store in the default data directory.
start() ->
    start(khepri_env:default_data_dir()).

%% @doc Starts the default store in `DataDirOrSystem'.
start(DataDirOrSystem) ->
    start(DataDirOrSystem, khepri_env:default_store_id()).

%% @doc Starts store `StoreIdOrConfig' in `DataDirOrSystem'.
start(DataDirOrSystem, StoreIdOrConfig) ->
    start(DataDirOrSystem, StoreIdOrConfig, khepri_env:default_timeout()).

%% @doc Starts a store and returns `{ok, StoreId}'; idempotent. The store's
%% files live in `<DataDir>/<StoreId>'. `StoreIdOrConfig' is a store id or a
%% map with `cluster_name' (the store id) and `machine_config'
%% (`snapshot_interval'); other Ra-specific keys are ignored (SPEC 5c).
-spec start(file:filename_all() | atom(), store_id() | map(), timeout()) ->
          {ok, store_id()} | {error, term()}.
start(DataDirOrSystem, StoreIdOrConfig, Timeout)
  when (is_atom(StoreIdOrConfig) orelse is_map(StoreIdOrConfig)) andalso
       (Timeout =:= infinity orelse (is_integer(Timeout) andalso Timeout >= 0)) ->
    {StoreId, Config} = store_config(StoreIdOrConfig),
    case resolve_data_dir(DataDirOrSystem) of
        {ok, DataDir} ->
            Dir = filename:join(DataDir, atom_to_list(StoreId)),
            case ensure_dir(Dir) of
                ok -> start_store(StoreId, Dir, Config#{timeout => Timeout});
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

store_config(StoreId) when is_atom(StoreId) ->
    {StoreId, #{}};
store_config(Config) when is_map(Config) ->
    StoreId = case maps:get(cluster_name, Config, khepri_env:default_store_id()) of
                  Id when is_atom(Id) -> Id;
                  Bad -> erlang:error(?khepri_exception(invalid_option,
                                                        #{option => cluster_name,
                                                          value => Bad}))
              end,
    Machine = maps:get(machine_config, Config, #{}),
    Engine = maps:with([snapshot_interval], Machine),
    Unknown = maps:keys(maps:without([cluster_name, friendly_name, machine_config],
                                     Config)),
    Unknown =:= [] orelse
        logger:warning("khepri store ~s: ignoring Ra-specific options ~p",
                       [StoreId, Unknown]),
    {StoreId, Engine}.

resolve_data_dir(Dir) when is_list(Dir); is_binary(Dir) ->
    {ok, Dir};
resolve_data_dir(System) when is_atom(System) ->
    Systems = application:get_env(khepri, ra_systems, #{}),
    case Systems of
        #{System := Dir} -> {ok, Dir};
        _ -> {error, ?khepri_error(unknown_ra_system, #{ra_system => System})}
    end.

ensure_dir(Dir) ->
    case filelib:ensure_path(Dir) of
        ok -> ok;
        {error, Reason} -> {error, {cannot_create_data_dir, Dir, Reason}}
    end.

start_store(StoreId, Dir, Config) ->
    {ok, _} = application:ensure_all_started(khepri),
    case khepri_sup:start_store(StoreId, Dir, Config) of
        {ok, _Pid} -> {ok, StoreId};
        {error, {already_started, _Pid}} -> {ok, StoreId};
        {error, already_present} ->
            ok = khepri_sup:stop_store(StoreId),
            start_store(StoreId, Dir, Config);
        {error, {Reason, _ChildSpec}} -> {error, Reason};
        {error, _} = Error -> Error
    end.

%% @doc Stops the default store.
stop() ->
    stop(khepri_env:default_store_id()).

%% @doc Stops the local member of `StoreId' (its data are kept); `ok' also
%% for a store that is not running.
-spec stop(store_id()) -> ok.
stop(StoreId) when is_atom(StoreId) ->
    case whereis(khepri_sup) of
        undefined -> ok;
        _ -> khepri_sup:stop_store(StoreId)
    end.

%% @doc The ids of the stores running on this node.
-spec get_store_ids() -> [store_id()].
get_store_ids() ->
    case whereis(khepri_sup) of
        undefined -> [];
        _ -> [Id || {Id, Pid, _, _} <- supervisor:which_children(khepri_sup),
                    is_pid(Pid)]
    end.

%% -------------------------------------------------------------------
%% Queries.
%% -------------------------------------------------------------------

%% @doc Reads the payload of one node of the default store.
get(Path) ->
    get(khepri_env:default_store_id(), Path, #{}).

%% @doc `get(StoreId, Path)' or `get(Path, Options)'.
get(StoreId, Path) when is_atom(StoreId) ->
    get(StoreId, Path, #{});
get(Path, Options) when is_map(Options) ->
    get(khepri_env:default_store_id(), Path, Options).

%% @doc `{ok, Data}', `{ok, undefined}' when the node has no payload, the fun
%% of a stored procedure, or `{error, {khepri, node_not_found, Props}}'.
-spec get(store_id(), term(), map()) -> {ok, term()} | {error, term()}.
get(StoreId, Path, Options) when is_atom(StoreId), is_map(Options) ->
    NodePath = khepri_node_path:single(Path),
    ok = khepri_options:validate(Options),
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            case khepri_nif:get(Engine, NodePath) of
                {ok_etf, Bin} -> {ok, binary_to_term(Bin)};
                Result -> Result
            end;
        error ->
            {error, noproc}
    end.

%% @doc Tells whether a node exists in the default store.
exists(Path) ->
    exists(khepri_env:default_store_id(), Path, #{}).

%% @doc `exists(StoreId, Path)' or `exists(Path, Options)'.
exists(StoreId, Path) when is_atom(StoreId) ->
    exists(StoreId, Path, #{});
exists(Path, Options) when is_map(Options) ->
    exists(khepri_env:default_store_id(), Path, Options).

%% @doc `true' or `false'; `{error, noproc}' when the store is not running.
-spec exists(store_id(), term(), map()) -> boolean() | {error, term()}.
exists(StoreId, Path, Options) when is_atom(StoreId), is_map(Options) ->
    NodePath = khepri_node_path:single(Path),
    ok = khepri_options:validate(Options),
    case khepri_store:engine(StoreId) of
        {ok, Engine} -> khepri_nif:exists(Engine, NodePath);
        error -> {error, noproc}
    end.

%% -------------------------------------------------------------------
%% Writes.
%% -------------------------------------------------------------------

%% @doc Sets the payload of one node of the default store.
put(Path, Data) ->
    put(khepri_env:default_store_id(), Path, Data, #{}).

%% @doc `put(StoreId, Path, Data)' or `put(Path, Data, Options)'.
put(StoreId, Path, Data) when is_atom(StoreId) ->
    put(StoreId, Path, Data, #{});
put(Path, Data, Options) when is_map(Options) ->
    put(khepri_env:default_store_id(), Path, Data, Options).

%% @doc Creates or updates one node, creating missing ancestors. Returns
%% `ok' once the local member applied the write.
-spec put(store_id(), term(), term(), map()) -> ok_or_error().
put(StoreId, Path, Data, Options) when is_atom(StoreId), is_map(Options) ->
    NodePath = khepri_node_path:single(Path),
    Payload = khepri_payload:encode(Path, Data),
    ok = khepri_options:validate(Options),
    to_ok(khepri_command:run(StoreId, {put, NodePath, Payload, []}, Options)).

%% @doc Deletes one node of the default store and its subtree.
delete(Path) ->
    delete(khepri_env:default_store_id(), Path, #{}).

%% @doc `delete(StoreId, Path)' or `delete(Path, Options)'.
delete(StoreId, Path) when is_atom(StoreId) ->
    delete(StoreId, Path, #{});
delete(Path, Options) when is_map(Options) ->
    delete(khepri_env:default_store_id(), Path, Options).

%% @doc Deletes one node and its subtree; `ok' also when it does not exist.
-spec delete(store_id(), term(), map()) -> ok_or_error().
delete(StoreId, Path, Options) when is_atom(StoreId), is_map(Options) ->
    NodePath = khepri_node_path:single(Path),
    ok = khepri_options:validate(Options),
    to_ok(khepri_command:run(StoreId, {delete, NodePath, []}, Options)).

to_ok({ok, _}) -> ok;
to_ok({error, _} = Error) -> Error.

%% -------------------------------------------------------------------
%% Info.
%% -------------------------------------------------------------------

%% @doc Prints the default store.
info() ->
    info(khepri_env:default_store_id()).

%% @doc Prints a store's member and tree to stdout.
info(StoreId) ->
    info(StoreId, #{}).

%% @doc Prints a store's member and tree to stdout (free text).
-spec info(store_id(), map()) -> ok | {error, noproc}.
info(StoreId, Options) when is_atom(StoreId), is_map(Options) ->
    ok = khepri_options:validate(Options),
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            io:format("~n\e[1;32m== KHEPRI STORE ~s ==\e[0m~n~n"
                      "Member: ~p~nApplied index: ~b~n~nTree:~n",
                      [StoreId, {StoreId, node()},
                       khepri_nif:applied_index(Engine)]),
            [print_node(Path, Payload) || {Path, Payload} <- khepri_nif:dump(Engine)],
            ok;
        error ->
            {error, noproc}
    end.

print_node(Path, Payload) ->
    Indent = lists:duplicate(2 * length(Path), $\s),
    Name = case Path of
               [] -> "/";
               _ -> khepri_path:to_string([lists:last(Path)])
           end,
    case Payload of
        none -> io:format("~s~ts~n", [Indent, Name]);
        {data, Data} -> io:format("~s~ts = ~0p~n", [Indent, Name, Data]);
        {sproc, Fun} -> io:format("~s~ts = (sproc) ~0p~n", [Indent, Name, Fun])
    end.
