%% @doc The implementation behind `khepri' and `khepri_adv': each function
%% takes the store id, the arguments and the options already sorted out by
%% the API modules' arity dispatch.
%%
%% Reads run on the local member's current tree version; writes go through
%% the Raft log (`khepri_command'). `Mode' is `simple' (the `khepri' API:
%% `ok', no properties) or `adv' (`{ok, #{Path => Props}}').
%%
%% Inside a transaction, `khepri_tx' passes `?TX_SOURCE(Tx, Mode)' instead of
%% a store id: reads and writes then use the transaction's overlay.
-module(khepri_ops).

-include("khepri.hrl").
-include("khepri_tx_source.hrl").

-export([get/3, get_or/4, get_many/3, get_many_or/4, exists/3, has_data/3,
         is_sproc/3, count/3, fold/5, foreach/4, map/4, filter/4, is_empty/2,
         adv_get/3, adv_get_many/3, with_engine/3]).
%% `with_engine/3` is internal: the engine of a store, after the read barrier
%% its options ask for.
-export([put/5, put_many/5, create/5, update/5, compare_and_swap/6,
         delete/4, delete_many/4, clear_payload/4, clear_many_payloads/4]).

-define(DEFAULT_PROPS, [payload, payload_version, delete_reason]).

%% -------------------------------------------------------------------
%% Queries.
%% -------------------------------------------------------------------

%% @doc `{ok, Data | Fun | undefined}' of one node. A plain path (the common
%% case) is checked once and read with the NIF's allocation-free lookup; a
%% pattern with conditions goes through `get_one'.
get(StoreId, Path, Options) ->
    ok = khepri_options:validate(Options),
    case khepri_pattern:is_plain(Path) of
        true ->
            with_engine(StoreId, Options, fun(Engine) ->
                case khepri_nif:get(Engine, Path) of
                    {ok_etf, Bin} -> {ok, binary_to_term(Bin)};
                    Result -> Result
                end
            end);
        false ->
            Pattern = khepri_pattern:single(Path),
            with_engine(StoreId, Options, fun(Engine) ->
                case one(Engine, Pattern, [payload]) of
                    {ok, {_Path, Props}} -> {ok, payload(Props)};
                    {error, _} = Error -> Error
                end
            end)
    end.

%% @doc Like `get', with `Default' for a missing node or one without payload.
get_or(StoreId, Path, Default, Options) ->
    case get(StoreId, Path, Options) of
        {ok, undefined} -> {ok, Default};
        {ok, _} = Ok -> Ok;
        {error, ?khepri_error(node_not_found, _)} -> {ok, Default};
        {error, _} = Error -> Error
    end.

%% @doc `{ok, #{Path => Data | Fun | undefined}}' of every match.
get_many(StoreId, Pattern, Options) ->
    query(StoreId, Pattern, [payload], Options, data_map).

%% @doc Like `get_many', with `Default' for nodes without payload.
get_many_or(StoreId, Pattern, Default, Options) ->
    case get_many(StoreId, Pattern, Options) of
        {ok, Map} ->
            {ok, maps:map(fun(_, undefined) -> Default; (_, V) -> V end, Map)};
        Error ->
            Error
    end.

%% @doc Whether one node exists (and satisfies the path's conditions).
exists(StoreId, Path, Options) ->
    ok = khepri_options:validate(Options),
    case khepri_pattern:is_plain(Path) of
        true ->
            with_engine(StoreId, Options, fun(Engine) -> khepri_nif:exists(Engine, Path) end);
        false ->
            Pattern = khepri_pattern:single(Path),
            with_engine(StoreId, Options, fun(Engine) ->
                found(one(Engine, Pattern, []), fun(_) -> true end)
            end)
    end.

%% @doc Whether one node holds data.
has_data(StoreId, Path, Options) ->
    flag(StoreId, Path, Options, has_data).

%% @doc Whether one node holds a stored procedure.
is_sproc(StoreId, Path, Options) ->
    flag(StoreId, Path, Options, is_sproc).

flag(StoreId, Path, Options, Key) ->
    Pattern = query_pattern(single, Path, Options),
    with_engine(StoreId, Options, fun(Engine) ->
        found(one(Engine, Pattern, [has_payload]),
              fun({_, Props}) -> maps:get(Key, Props, false) end)
    end).

found({ok, Found}, Fun) -> Fun(Found);
found({error, ?khepri_error(node_not_found, _)}, _Fun) -> false;
found({error, _} = Error, _Fun) -> Error.

%% @doc `{ok, N}': the number of nodes matched.
count(StoreId, Pattern, Options) ->
    query(StoreId, Pattern, [], Options, count).

%% @doc Folds `Fun(Path, Props, Acc)' over the matches, in the caller.
fold(StoreId, Pattern, Fun, Acc, Options) when is_function(Fun, 3) ->
    case props_list(StoreId, Pattern, Options) of
        {ok, List} ->
            {ok, lists:foldl(fun({P, Props}, A) -> Fun(P, Props, A) end,
                             Acc, List)};
        Error ->
            Error
    end.

%% @doc Calls `Fun(Path, Props)' for each match, in the caller.
foreach(StoreId, Pattern, Fun, Options) when is_function(Fun, 2) ->
    case props_list(StoreId, Pattern, Options) of
        {ok, List} -> lists:foreach(fun({P, Props}) -> Fun(P, Props) end, List);
        Error -> Error
    end.

%% @doc `{ok, #{Path => Fun(Path, Props)}}'.
map(StoreId, Pattern, Fun, Options) when is_function(Fun, 2) ->
    case props_list(StoreId, Pattern, Options) of
        {ok, List} -> {ok, maps:from_list([{P, Fun(P, Props)} || {P, Props} <- List])};
        Error -> Error
    end.

%% @doc `{ok, #{Path => Data | Fun | undefined}}' of the matches for which
%% `Pred(Path, Props)' is true.
filter(StoreId, Pattern, Pred, Options) when is_function(Pred, 2) ->
    Wanted = maps:get(props_to_return, Options, ?DEFAULT_PROPS),
    case props_list(StoreId, Pattern, Options#{props_to_return => [payload | Wanted]}) of
        {ok, List} ->
            {ok, maps:from_list([{P, payload(Props)} || {P, Props} <- List,
                                                        Pred(P, Props)])};
        Error ->
            Error
    end.

props_list(StoreId, Pattern, Options) ->
    Wanted = maps:get(props_to_return, Options, ?DEFAULT_PROPS),
    query(StoreId, Pattern, Wanted, Options, props_list).

%% @doc Whether the root has no child.
is_empty(StoreId, Options) ->
    ok = khepri_options:validate(Options),
    with_engine(StoreId, Options, fun(Engine) ->
        case one(Engine, [], [child_list_length]) of
            {ok, {[], #{child_list_length := N}}} -> N =:= 0;
            {error, _} = Error -> Error
        end
    end).

%% @doc `khepri_adv:get': `{ok, #{Path => Props}}' of one node; `{ok, #{}}'
%% when it exists but fails the path's conditions (SPEC 5d.1).
adv_get(StoreId, Path, Options) ->
    Pattern = query_pattern(single, Path, Options),
    Wanted = maps:get(props_to_return, Options, ?DEFAULT_PROPS),
    with_engine(StoreId, Options, fun(Engine) ->
        case one(Engine, Pattern, Wanted) of
            {ok, {P, Props}} ->
                {ok, #{P => Props}};
            {error, ?khepri_error(node_not_found, #{condition := _})} = Error ->
                case khepri_nif:exists(Engine, khepri_pattern:node_path(Pattern)) of
                    true -> {ok, #{}};
                    false -> Error
                end;
            {error, _} = Error ->
                Error
        end
    end).

%% @doc `khepri_adv:get_many': `{ok, #{Path => Props}}'.
adv_get_many(StoreId, Pattern, Options) ->
    Wanted = maps:get(props_to_return, Options, ?DEFAULT_PROPS),
    query(StoreId, Pattern, Wanted, Options, props_map).

query(StoreId, Path, Wanted, Options, Shape) ->
    Pattern = query_pattern(many, Path, Options),
    IncludeRoot = maps:get(include_root_props, Options, false),
    with_engine(StoreId, Options, fun(Engine) ->
        {ok, khepri_nif:query(Engine, Pattern, Wanted, IncludeRoot, Shape)}
    end).

%% `expect_specific_node' is set by the function (SPEC 1.3): single-node
%% calls require one node, many-node calls do not, whatever the option says.
query_pattern(Kind, Path, Options) ->
    ok = khepri_options:validate(Options),
    case Kind of
        single -> khepri_pattern:single(Path);
        many -> khepri_pattern:many(Path)
    end.

one(Engine, Pattern, Wanted) ->
    case khepri_nif:get_one(Engine, Pattern, Wanted) of
        too_big -> khepri_nif:get_one_dirty(Engine, Pattern, Wanted);
        Result -> Result
    end.

payload(#{data := Data}) -> Data;
payload(#{sproc := Fun}) -> Fun;
payload(_) -> undefined.

%% A transaction's reads go to its overlay; a store's reads first pass the
%% barrier its `favor'/`condition' options ask for (SPEC 4.8).
with_engine(?TX_SOURCE(Tx, _Mode), _Options, Fun) ->
    Fun(Tx);
with_engine(StoreId, Options, Fun) ->
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            case khepri_barrier:before_read(Engine, Options) of
                ok -> Fun(Engine);
                {error, _} = Error -> Error
            end;
        error ->
            {error, noproc}
    end.

%% -------------------------------------------------------------------
%% Writes.
%% -------------------------------------------------------------------

%% @doc Creates or updates one node.
put(StoreId, Path, Data, Options, Mode) ->
    write(StoreId, put, khepri_pattern:single(Path), [], Path, Data, Options, Mode).

%% @doc Creates or updates every match of a pattern.
put_many(StoreId, Path, Data, Options, Mode) ->
    write(StoreId, put_many, khepri_pattern:many(Path), [], Path, Data, Options, Mode).

%% @doc `put' with `#if_node_exists{exists = false}' on the last component.
create(StoreId, Path, Data, Options, Mode) ->
    write(StoreId, put, khepri_pattern:single(Path),
          [#if_node_exists{exists = false}], Path, Data, Options, Mode).

%% @doc `put' with `#if_node_exists{exists = true}' on the last component.
update(StoreId, Path, Data, Options, Mode) ->
    write(StoreId, put, khepri_pattern:single(Path),
          [#if_node_exists{exists = true}], Path, Data, Options, Mode).

%% @doc `put' with `#if_data_matches{pattern = DataPattern}' on the last
%% component.
compare_and_swap(StoreId, Path, DataPattern, Data, Options, Mode) ->
    Cond = #if_data_matches{pattern = DataPattern},
    ok = khepri_condition:validate_data_matches(Cond),
    write(StoreId, put, khepri_pattern:single(Path), [Cond], Path, Data,
          Options, Mode).

write(StoreId, Kind, Pattern0, Conds, Path, Data, Options, Mode) ->
    ok = khepri_options:validate(Options),
    Pattern = case {Conds, Pattern0} of
                  {[], _} -> Pattern0;
                  %% the root has no component to put a condition on
                  {_, []} -> [];
                  _ -> khepri_path:combine_with_conditions(Pattern0, Conds)
              end,
    Payload = khepri_payload:encode(Path, Data),
    Command = {Kind, Pattern, Payload, write_opts(Pattern0, Options, Mode)},
    result(run(StoreId, Command, Options), Mode).

%% @doc Deletes one node and its subtree.
delete(StoreId, Path, Options, Mode) ->
    erase(StoreId, delete, khepri_pattern:single(Path), Options, Mode).

%% @doc Deletes every match and its subtree.
delete_many(StoreId, Path, Options, Mode) ->
    erase(StoreId, delete, khepri_pattern:many(Path), Options, Mode).

%% @doc Removes the payload of one node.
clear_payload(StoreId, Path, Options, Mode) ->
    erase(StoreId, clear_payload, khepri_pattern:single(Path), Options, Mode).

%% @doc Removes the payload of every match.
clear_many_payloads(StoreId, Path, Options, Mode) ->
    erase(StoreId, clear_payload, khepri_pattern:many(Path), Options, Mode).

erase(StoreId, Kind, Pattern, Options, Mode) ->
    ok = khepri_options:validate(Options),
    Command = {Kind, Pattern, write_opts(Pattern, maps:remove(keep_while, Options), Mode)},
    result(run(StoreId, Command, Options), Mode).

%% In a transaction, writes go to its overlay (and are recorded for the
%% commit); elsewhere through the log.
run(?TX_SOURCE(_Tx, ro), _Command, _Options) ->
    erlang:error(?khepri_exception(denied_update_in_readonly_tx, #{}));
run(?TX_SOURCE(Tx, _Mode), Command, _Options) ->
    Reply = case khepri_nif:tx_write(Tx, Command) of
                dirty -> khepri_nif:tx_write_dirty(Tx, Command);
                Applied -> Applied
            end,
    khepri_command:to_map(Reply);
run(StoreId, Command, Options) ->
    khepri_command:run(StoreId, Command, Options).

write_opts(Pattern, Options, Mode) ->
    Props = case {Mode, maps:get(async, Options, false)} of
                %% An async notification lists the written paths, each with
                %% `#{}' (SPEC 4.8); a sync simple write returns just `ok'.
                {simple, false} -> none;
                {simple, _} -> [];
                {adv, _} -> maps:get(props_to_return, Options, ?DEFAULT_PROPS)
            end,
    KeepWhile = case Options of
                    #{keep_while := KW} ->
                        khepri_pattern:keep_while(KW, khepri_pattern:node_path(Pattern));
                    _ ->
                        undefined
                end,
    {Props, KeepWhile, maps:get(return_indirect_deletes, Options, true)}.

result(ok, _Mode) -> ok;
result({ok, _}, simple) -> ok;
result({ok, _} = Ok, adv) -> Ok;
result({error, _} = Error, _Mode) -> Error.
