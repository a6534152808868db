%% @doc The API inside transaction funs (SPEC 2.7): the `khepri' queries and
%% writes without a store id, on the transaction's overlay. Reads see the
%% transaction's own earlier writes. Called outside a transaction fun, every
%% function but `is_transaction/0' and `does_api_comply_with/1' raises
%% `invalid_use_of_khepri_tx_outside_transaction'.
-module(khepri_tx).

%% get/1 and put/2 are also process-dictionary BIFs.
-compile({no_auto_import, [get/1, put/2]}).

-export([is_empty/0, is_empty/1, get/1, get/2, get_or/2, get_or/3,
         get_many/1, get_many/2, get_many_or/2, get_many_or/3,
         exists/1, exists/2, has_data/1, has_data/2, is_sproc/1, is_sproc/2,
         count/1, count/2, fold/3, fold/4, foreach/2, foreach/3,
         map/2, map/3, filter/2, filter/3]).
-export([put/2, put/3, put_many/2, put_many/3, create/2, create/3,
         update/2, update/3, compare_and_swap/3, compare_and_swap/4,
         delete/1, delete/2, delete_many/1, delete_many/2,
         clear_payload/1, clear_payload/2,
         clear_many_payloads/1, clear_many_payloads/2]).
-export([abort/1, is_transaction/0, does_api_comply_with/1]).

-define(SRC, (khepri_transaction:source())).

%% @doc Whether the root has no child.
is_empty() -> is_empty(#{}).
%% @doc Whether the root has no child.
is_empty(Opts) -> khepri_ops:is_empty(?SRC, Opts).

%% @doc `{ok, Data}' of one node (see `khepri:get/3').
get(Path) -> get(Path, #{}).
%% @doc `{ok, Data}' of one node (see `khepri:get/3').
get(Path, Opts) -> khepri_ops:get(?SRC, Path, Opts).

%% @doc Like `get', with `Default' for a missing node or one without payload.
get_or(Path, Default) -> get_or(Path, Default, #{}).
%% @doc Like `get', with `Default' for a missing node or one without payload.
get_or(Path, Default, Opts) -> khepri_ops:get_or(?SRC, Path, Default, Opts).

%% @doc `{ok, #{Path => Data}}' of every match.
get_many(Pattern) -> get_many(Pattern, #{}).
%% @doc `{ok, #{Path => Data}}' of every match.
get_many(Pattern, Opts) -> khepri_ops:get_many(?SRC, Pattern, Opts).

%% @doc Like `get_many', with `Default' for nodes without payload.
get_many_or(Pattern, Default) -> get_many_or(Pattern, Default, #{}).
%% @doc Like `get_many', with `Default' for nodes without payload.
get_many_or(Pattern, Default, Opts) ->
    khepri_ops:get_many_or(?SRC, Pattern, Default, Opts).

%% @doc Whether one node exists.
exists(Path) -> exists(Path, #{}).
%% @doc Whether one node exists.
exists(Path, Opts) -> khepri_ops:exists(?SRC, Path, Opts).

%% @doc Whether one node holds data.
has_data(Path) -> has_data(Path, #{}).
%% @doc Whether one node holds data.
has_data(Path, Opts) -> khepri_ops:has_data(?SRC, Path, Opts).

%% @doc Whether one node holds a stored procedure.
is_sproc(Path) -> is_sproc(Path, #{}).
%% @doc Whether one node holds a stored procedure.
is_sproc(Path, Opts) -> khepri_ops:is_sproc(?SRC, Path, Opts).

%% @doc `{ok, N}': the number of matches.
count(Pattern) -> count(Pattern, #{}).
%% @doc `{ok, N}': the number of matches.
count(Pattern, Opts) -> khepri_ops:count(?SRC, Pattern, Opts).

%% @doc Folds `Fun(Path, Props, Acc)' over the matches.
fold(Pattern, Fun, Acc) -> fold(Pattern, Fun, Acc, #{}).
%% @doc Folds `Fun(Path, Props, Acc)' over the matches.
fold(Pattern, Fun, Acc, Opts) -> khepri_ops:fold(?SRC, Pattern, Fun, Acc, Opts).

%% @doc Calls `Fun(Path, Props)' for each match.
foreach(Pattern, Fun) -> foreach(Pattern, Fun, #{}).
%% @doc Calls `Fun(Path, Props)' for each match.
foreach(Pattern, Fun, Opts) -> khepri_ops:foreach(?SRC, Pattern, Fun, Opts).

%% @doc `{ok, #{Path => Fun(Path, Props)}}'.
map(Pattern, Fun) -> map(Pattern, Fun, #{}).
%% @doc `{ok, #{Path => Fun(Path, Props)}}'.
map(Pattern, Fun, Opts) -> khepri_ops:map(?SRC, Pattern, Fun, Opts).

%% @doc `{ok, #{Path => Data}}' of the matches for which `Pred' is true.
filter(Pattern, Pred) -> filter(Pattern, Pred, #{}).
%% @doc `{ok, #{Path => Data}}' of the matches for which `Pred' is true.
filter(Pattern, Pred, Opts) -> khepri_ops:filter(?SRC, Pattern, Pred, Opts).

%% @doc Creates or updates one node.
put(Path, Data) -> put(Path, Data, #{}).
%% @doc Creates or updates one node.
put(Path, Data, Opts) -> khepri_ops:put(?SRC, Path, Data, Opts, simple).

%% @doc Creates or updates every match.
put_many(Pattern, Data) -> put_many(Pattern, Data, #{}).
%% @doc Creates or updates every match.
put_many(Pattern, Data, Opts) -> khepri_ops:put_many(?SRC, Pattern, Data, Opts, simple).

%% @doc Creates one node that must not exist.
create(Path, Data) -> create(Path, Data, #{}).
%% @doc Creates one node that must not exist.
create(Path, Data, Opts) -> khepri_ops:create(?SRC, Path, Data, Opts, simple).

%% @doc Updates one node that must exist.
update(Path, Data) -> update(Path, Data, #{}).
%% @doc Updates one node that must exist.
update(Path, Data, Opts) -> khepri_ops:update(?SRC, Path, Data, Opts, simple).

%% @doc Updates one node whose data matches `DataPattern'.
compare_and_swap(Path, DataPattern, Data) ->
    compare_and_swap(Path, DataPattern, Data, #{}).
%% @doc Updates one node whose data matches `DataPattern'.
compare_and_swap(Path, DataPattern, Data, Opts) ->
    khepri_ops:compare_and_swap(?SRC, Path, DataPattern, Data, Opts, simple).

%% @doc Deletes one node and its subtree.
delete(Path) -> delete(Path, #{}).
%% @doc Deletes one node and its subtree.
delete(Path, Opts) -> khepri_ops:delete(?SRC, Path, Opts, simple).

%% @doc Deletes every match and its subtree.
delete_many(Pattern) -> delete_many(Pattern, #{}).
%% @doc Deletes every match and its subtree.
delete_many(Pattern, Opts) -> khepri_ops:delete_many(?SRC, Pattern, Opts, simple).

%% @doc Removes the payload of one node.
clear_payload(Path) -> clear_payload(Path, #{}).
%% @doc Removes the payload of one node.
clear_payload(Path, Opts) -> khepri_ops:clear_payload(?SRC, Path, Opts, simple).

%% @doc Removes the payload of every match.
clear_many_payloads(Pattern) -> clear_many_payloads(Pattern, #{}).
%% @doc Removes the payload of every match.
clear_many_payloads(Pattern, Opts) ->
    khepri_ops:clear_many_payloads(?SRC, Pattern, Opts, simple).

%% @doc Ends the transaction at once: nothing is committed and the caller of
%% `khepri:transaction' gets `{error, Reason}'.
-spec abort(term()) -> no_return().
abort(Reason) ->
    _ = ?SRC,
    throw({'$__ABORTED_KHEPRI_TX__', Reason}).

%% @doc Whether the calling process is running a transaction fun.
-spec is_transaction() -> boolean().
is_transaction() -> khepri_transaction:is_transaction().

%% @doc Whether this implementation has behaviour `Behaviour' (SPEC 2.7).
-spec does_api_comply_with(atom()) -> boolean().
does_api_comply_with(Behaviour) ->
    lists:member(Behaviour, [dedup_protection, delete_reason_in_node_props,
                             expire_dedups_from_tick, indirect_deletes_in_ret,
                             uniform_write_ret, multi_table_projections,
                             uniform_commands, request_snapshot,
                             extended_trigger]).
