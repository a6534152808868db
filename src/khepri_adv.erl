%% @doc The Khepri API with detailed results (SPEC 2.6): every call returns
%% `{ok, #{Path => Props}}' (`props_to_return', default `[payload,
%% payload_version, delete_reason]'). Write results carry each node's old
%% payload and new versions, and list every node the write removed: the
%% subtree of an explicit delete and keep_while cascades (unless
%% `return_indirect_deletes => false'). Same argument dispatch as `khepri'.
-module(khepri_adv).

-include("khepri.hrl").

-compile({no_auto_import, [get/1, put/2]}).

-export([get/1, get/2, get/3, get_many/1, get_many/2, get_many/3,
         put/2, put/3, put/4, put_many/2, put_many/3, put_many/4,
         create/2, create/3, create/4, update/2, update/3, update/4,
         compare_and_swap/3, compare_and_swap/4, compare_and_swap/5,
         delete/1, delete/2, delete/3, delete_many/1, delete_many/2, delete_many/3,
         clear_payload/1, clear_payload/2, clear_payload/3,
         clear_many_payloads/1, clear_many_payloads/2, clear_many_payloads/3,
         unregister_projections/1, unregister_projections/2, unregister_projections/3]).

-define(DEFAULT, (khepri_env:default_store_id())).
-define(IS_STORE(S), is_atom(S)).

%% @doc One node of the default store, with its properties.
get(Path) -> get(?DEFAULT, Path, #{}).
%% @doc `get(StoreId, Path)' or `get(Path, Options)'.
get(S, Path) when ?IS_STORE(S) -> get(S, Path, #{});
get(Path, Opts) when is_map(Opts) -> get(?DEFAULT, Path, Opts).
%% @doc `{ok, #{Path => Props}}'; `{ok, #{}}' when the node exists but fails
%% the path's conditions; `node_not_found' when it is missing.
get(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) -> khepri_ops:adv_get(S, Path, Opts).

%% @doc Every match of a pattern in the default store, with properties.
get_many(Pattern) -> get_many(?DEFAULT, Pattern, #{}).
%% @doc `get_many(StoreId, Pattern)' or `get_many(Pattern, Options)'.
get_many(S, Pattern) when ?IS_STORE(S) -> get_many(S, Pattern, #{});
get_many(Pattern, Opts) when is_map(Opts) -> get_many(?DEFAULT, Pattern, Opts).
%% @doc `{ok, #{Path => Props}}', `{ok, #{}}' if nothing matches.
get_many(S, Pattern, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:adv_get_many(S, Pattern, Opts).

%% @doc `khepri:put/2' with detailed results.
put(Path, Data) -> put(?DEFAULT, Path, Data, #{}).
%% @doc `put(StoreId, Path, Data)' or `put(Path, Data, Options)'.
put(S, Path, Data) when ?IS_STORE(S) -> put(S, Path, Data, #{});
put(Path, Data, Opts) when is_map(Opts) -> put(?DEFAULT, Path, Data, Opts).
%% @doc `{ok, #{Path => Props}}' of the written node (old payload, new versions).
put(S, Path, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:put(S, Path, Data, Opts, adv).

%% @doc `khepri:put_many/2' with detailed results.
put_many(Path, Data) -> put_many(?DEFAULT, Path, Data, #{}).
%% @doc `put_many(StoreId, Pattern, Data)' or `put_many(Pattern, Data, Options)'.
put_many(S, Path, Data) when ?IS_STORE(S) -> put_many(S, Path, Data, #{});
put_many(Path, Data, Opts) when is_map(Opts) -> put_many(?DEFAULT, Path, Data, Opts).
%% @doc `{ok, #{Path => Props}}' of every written node.
put_many(S, Path, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:put_many(S, Path, Data, Opts, adv).

%% @doc `khepri:create/2' with detailed results.
create(Path, Data) -> create(?DEFAULT, Path, Data, #{}).
%% @doc `create(StoreId, Path, Data)' or `create(Path, Data, Options)'.
create(S, Path, Data) when ?IS_STORE(S) -> create(S, Path, Data, #{});
create(Path, Data, Opts) when is_map(Opts) -> create(?DEFAULT, Path, Data, Opts).
%% @doc `{ok, #{Path => Props}}' of the created node.
create(S, Path, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:create(S, Path, Data, Opts, adv).

%% @doc `khepri:update/2' with detailed results.
update(Path, Data) -> update(?DEFAULT, Path, Data, #{}).
%% @doc `update(StoreId, Path, Data)' or `update(Path, Data, Options)'.
update(S, Path, Data) when ?IS_STORE(S) -> update(S, Path, Data, #{});
update(Path, Data, Opts) when is_map(Opts) -> update(?DEFAULT, Path, Data, Opts).
%% @doc `{ok, #{Path => Props}}' of the updated node.
update(S, Path, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:update(S, Path, Data, Opts, adv).

%% @doc `khepri:compare_and_swap/3' with detailed results.
compare_and_swap(Path, DataPattern, Data) ->
    compare_and_swap(?DEFAULT, Path, DataPattern, Data, #{}).
%% @doc `(StoreId, Path, DataPattern, Data)' or `(Path, DataPattern, Data, Options)'.
compare_and_swap(S, Path, DataPattern, Data) when ?IS_STORE(S) ->
    compare_and_swap(S, Path, DataPattern, Data, #{});
compare_and_swap(Path, DataPattern, Data, Opts) when is_map(Opts) ->
    compare_and_swap(?DEFAULT, Path, DataPattern, Data, Opts).
%% @doc `{ok, #{Path => Props}}' of the swapped node.
compare_and_swap(S, Path, DataPattern, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:compare_and_swap(S, Path, DataPattern, Data, Opts, adv).

%% @doc `khepri:delete/1' with detailed results.
delete(Path) -> delete(?DEFAULT, Path, #{}).
%% @doc `delete(StoreId, Path)' or `delete(Path, Options)'.
delete(S, Path) when ?IS_STORE(S) -> delete(S, Path, #{});
delete(Path, Opts) when is_map(Opts) -> delete(?DEFAULT, Path, Opts).
%% @doc `{ok, #{Path => Props}}' of every removed node, with `delete_reason'.
delete(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:delete(S, Path, Opts, adv).

%% @doc `khepri:delete_many/1' with detailed results.
delete_many(Path) -> delete_many(?DEFAULT, Path, #{}).
%% @doc `delete_many(StoreId, Pattern)' or `delete_many(Pattern, Options)'.
delete_many(S, Path) when ?IS_STORE(S) -> delete_many(S, Path, #{});
delete_many(Path, Opts) when is_map(Opts) -> delete_many(?DEFAULT, Path, Opts).
%% @doc `{ok, #{Path => Props}}' of every removed node.
delete_many(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:delete_many(S, Path, Opts, adv).

%% @doc `khepri:clear_payload/1' with detailed results.
clear_payload(Path) -> clear_payload(?DEFAULT, Path, #{}).
%% @doc `clear_payload(StoreId, Path)' or `clear_payload(Path, Options)'.
clear_payload(S, Path) when ?IS_STORE(S) -> clear_payload(S, Path, #{});
clear_payload(Path, Opts) when is_map(Opts) -> clear_payload(?DEFAULT, Path, Opts).
%% @doc `{ok, #{Path => Props}}' of the node (old payload, new versions).
clear_payload(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:clear_payload(S, Path, Opts, adv).

%% @doc `khepri:clear_many_payloads/1' with detailed results.
clear_many_payloads(Path) -> clear_many_payloads(?DEFAULT, Path, #{}).
%% @doc `clear_many_payloads(StoreId, Pattern)' or `(Pattern, Options)'.
clear_many_payloads(S, Path) when ?IS_STORE(S) -> clear_many_payloads(S, Path, #{});
clear_many_payloads(Path, Opts) when is_map(Opts) -> clear_many_payloads(?DEFAULT, Path, Opts).
%% @doc `{ok, #{Path => Props}}' of every matched node.
clear_many_payloads(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:clear_many_payloads(S, Path, Opts, adv).

%% @doc `khepri:unregister_projections/1' with detailed results.
unregister_projections(Names) -> unregister_projections(?DEFAULT, Names, #{}).
%% @doc `unregister_projections(Names, Options)' or
%% `unregister_projections(StoreId, Names)'.
unregister_projections(Names, Opts) when is_map(Opts) ->
    unregister_projections(?DEFAULT, Names, Opts);
unregister_projections(S, Names) -> unregister_projections(S, Names, #{}).
%% @doc `{ok, #{Name => PathPattern}}' of the projections removed.
unregister_projections(S, Names, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_registration:adv_unregister_projections(S, Names, Opts).
