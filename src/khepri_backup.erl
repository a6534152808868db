%% @doc Export and import of a store's nodes through a
%% `khepri_import_export' module (SPEC 4.10), such as `khepri_export_erlang'.
%%
%% Export walks the pattern on one snapshot of the local member and writes
%% one `{put, Path, Payload, PutOptions}' item per node with a payload or a
%% keep_while, parents first; sprocs are written as `{p_sproc, Binary, rw}'
%% (`term_to_binary' of the fun). Import applies items in order, each as its
%% own synchronous write (not atomic); the first error stops it.
-module(khepri_backup).

-include("khepri.hrl").

-export([export/4, import/3]).

%% Items handed to the export module per `write/2' call.
-define(BATCH, 1000).

%% @doc Exports the nodes matching `Pattern' with `Module' and `Priv'.
-spec export(atom(), term(), module(), term()) -> ok | {ok, term()} | {error, term()}.
export(StoreId, Pattern0, Module, Priv) when is_atom(Module) ->
    Pattern = khepri_pattern:many(Pattern0),
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            Items = [{put, Path, encode_sproc(Raw), Opts}
                     || {Path, Raw, Opts} <- khepri_nif:export(Engine, Pattern)],
            write_all(Module, Priv, Items);
        error ->
            {error, noproc}
    end.

encode_sproc({p_sproc, Fun, rw}) when is_function(Fun) -> {p_sproc, term_to_binary(Fun), rw};
encode_sproc(Raw) -> Raw.

write_all(Module, Priv0, Items) ->
    case Module:open_write(Priv0) of
        {ok, Priv1} ->
            case write_batches(Module, Priv1, Items) of
                {ok, Priv2} ->
                    Module:commit_write(Priv2);
                {error, _} = Error ->
                    _ = Module:abort_write(Priv1),
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

write_batches(_Module, Priv, []) ->
    {ok, Priv};
write_batches(Module, Priv, Items) ->
    {Batch, Rest} = lists:split(min(?BATCH, length(Items)), Items),
    case Module:write(Priv, Batch) of
        {ok, Priv1} -> write_batches(Module, Priv1, Rest);
        {error, _} = Error -> Error
    end.

%% @doc Imports the items read by `Module' from `Priv' into the store.
-spec import(atom(), module(), term()) -> ok | {ok, term()} | {error, term()}.
import(StoreId, Module, Priv0) when is_atom(Module) ->
    case Module:open_read(Priv0) of
        {ok, Priv1} -> read_loop(StoreId, Module, Priv1);
        {error, _} = Error -> Error
    end.

read_loop(StoreId, Module, Priv) ->
    case Module:read(Priv) of
        {ok, [], Priv1} ->
            Module:close_read(Priv1);
        {ok, Items, Priv1} ->
            case apply_items(StoreId, Items) of
                ok ->
                    read_loop(StoreId, Module, Priv1);
                {error, _} = Error ->
                    _ = Module:close_read(Priv1),
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

apply_items(_StoreId, []) ->
    ok;
apply_items(StoreId, [Item | Rest]) ->
    case apply_item(StoreId, Item) of
        ok -> apply_items(StoreId, Rest);
        {error, _} = Error -> Error
    end.

apply_item(StoreId, {put, Path, Payload, Options}) when is_map(Options) ->
    case decode_sproc(Path, Payload) of
        {ok, Decoded} -> khepri:put(StoreId, Path, Decoded, Options);
        {error, _} = Error -> Error
    end;
apply_item(StoreId, {delete, Path, Options}) when is_map(Options) ->
    khepri:delete_many(StoreId, Path, Options);
apply_item(_StoreId, Item) ->
    {error, {unsupported_backup_item, Item}}.

decode_sproc(_Path, {p_sproc, Bin, _}) when is_binary(Bin) ->
    {ok, {p_sproc, binary_to_term(Bin), rw}};
decode_sproc(_Path, {p_sproc, Fun, _} = Sproc) when is_function(Fun) ->
    {ok, Sproc};
decode_sproc(Path, {p_sproc, _Other, _}) ->
    %% upstream's Horus-extracted functions (#horus_fun{}) and anything else
    {error, ?khepri_error(unsupported_sproc_format, #{path => Path})};
decode_sproc(_Path, Payload) ->
    {ok, Payload}.
