%% @doc Projections on this member: the store process creates their ETS
%% tables, fills them, keeps them in step with the applied commands and
%% drops them, as the engine's effects say (`khepri_store', SPEC 4.7). The
%% tables are owned by the store process, so they go when it stops.
%%
%% A failing projection fun or ETS call is logged (rate-limited) and
%% skipped: the store and the other projections keep going.
-module(khepri_projector).

-include_lib("kernel/include/logger.hrl").

-include("khepri_projection.hrl").

-export([new/0, register/5, unregister/2, project/3, names/1]).

-record(projection, {kind :: copy | simple | extended,
                     function :: copy | fun(),
                     %% What funs get: the table, or `#{Table => Table}'.
                     tables :: atom() | #{atom() => atom()}}).

-opaque projections() :: #{atom() => #projection{}}.
-export_type([projections/0]).

%% Properties an extended projection gets (SPEC 4.7).
-define(FULL_PROPS, [payload, payload_version, child_list_version,
                     child_list_length, child_names]).

%% @doc No projection.
-spec new() -> projections().
new() ->
    #{}.

%% @doc Names of the projections with tables here.
-spec names(projections()) -> [atom()].
names(Projections) ->
    maps:keys(Projections).

%% @doc Creates the tables of `Projection' and fills them from `Version',
%% the tree as of its registration.
-spec register(atom(), #khepri_projection{}, term(), reference(), projections()) ->
    projections().
register(Name, #khepri_projection{projection_fun = Fun, ets_options = EtsOptions},
         Pattern, Version, Projections0) ->
    Projections = unregister([Name], Projections0),
    try create_tables(Name, EtsOptions) of
        Tables ->
            Kind = kind(Fun),
            fill(Name, Kind, Fun, Tables, Pattern, Version),
            %% The fill built every match in this (the store) process's
            %% heap, which then kept that size until enough later
            %% allocation: 55M words (440 MB) after a fill of 600k keys,
            %% 376 words after this collection.
            erlang:garbage_collect(),
            Projections#{Name => #projection{kind = Kind, function = Fun, tables = Tables}}
    catch
        Class:Reason ->
            ?LOG_ERROR("khepri projection ~0p: cannot create its tables: ~0p:~0p",
                       [Name, Class, Reason]),
            Projections
    end;
register(Name, Other, _Pattern, _Version, Projections) ->
    %% Not a projection record: its fun could not be decoded here (SPEC
    %% 5b: its module must be loaded on every member).
    ?LOG_ERROR("khepri projection ~0p cannot be used on this node: ~0p", [Name, Other]),
    unregister([Name], Projections).

%% Puts every node `Pattern' matches in `Version' into the new tables.
fill(Name, Kind, Fun, Tables, Pattern, Version) ->
    Wanted = case Kind of
                 extended -> ?FULL_PROPS;
                 _ -> [payload]
             end,
    Nodes = khepri_nif:query(Version, Pattern, Wanted, false, props_list),
    Changes = case Kind of
                  extended -> [{Path, #{}, Props} || {Path, Props} <- Nodes];
                  _ -> [{put, Path, D} || {Path, #{data := D}} <- Nodes]
              end,
    apply_changes(Name, Kind, Fun, Tables, Changes).

%% @doc Drops the tables of the named projections.
-spec unregister([atom()], projections()) -> projections().
unregister(Names, Projections) ->
    lists:foldl(
      fun(Name, Acc) ->
              case maps:take(Name, Acc) of
                  {#projection{tables = Tables}, Rest} ->
                      [catch ets:delete(T) || T <- table_list(Tables)],
                      Rest;
                  error ->
                      Acc
              end
      end, Projections, Names).

%% @doc Applies `Changes' to projection `Name', in order: for a copy or
%% simple projection `{put, Path, Data}' or `{delete, Path, Data}', for an
%% extended one `{Path, OldProps, NewProps}' (`#{}': absent). A change that
%% fails is logged and skipped.
-spec project(atom(), list(), projections()) -> ok.
project(Name, Changes, Projections) ->
    case Projections of
        #{Name := #projection{kind = Kind, function = Fun, tables = Tables}} ->
            apply_changes(Name, Kind, Fun, Tables, Changes);
        _ ->
            ok
    end.

%% One tight loop per projection and batch: this runs on every write the
%% projection follows, before the write's caller is answered.
apply_changes(Name, Kind, Fun, Tables, [Change | Rest]) ->
    try
        apply_change(Kind, Fun, Tables, Change)
    catch
        Class:Reason ->
            khepri_rate_log:warning(
              {projection, Name},
              "khepri projection ~0p failed on ~0p: ~0p:~0p",
              [Name, element(2, Change), Class, Reason])
    end,
    apply_changes(Name, Kind, Fun, Tables, Rest);
apply_changes(_Name, _Kind, _Fun, _Tables, []) ->
    ok.

%% SPEC 4.7: a node with data is inserted as its record, a node that lost
%% its data (or went) has its old record deleted; an update does not delete
%% the old record first (the engine chose put or delete).
apply_change(copy, copy, Table, {put, _Path, Data}) ->
    true = ets:insert(Table, Data);
apply_change(simple, Fun, Table, {put, Path, Data}) ->
    true = ets:insert(Table, Fun(Path, Data));
apply_change(Kind, Fun, Table, {delete, Path, Data}) ->
    true = ets:delete_object(Table, record(Kind, Fun, Path, Data));
apply_change(extended, Fun, Tables, {Path, OldProps, NewProps}) ->
    _ = Fun(Tables, Path, OldProps, NewProps),
    ok.

record(copy, copy, _Path, Data) -> Data;
record(simple, Fun, Path, Data) -> Fun(Path, Data).

kind(copy) -> copy;
kind(Fun) when is_function(Fun, 2) -> simple;
kind(Fun) when is_function(Fun, 4) -> extended.

create_tables(Name, Options) when is_list(Options) ->
    ets:new(Name, Options);
create_tables(_Name, PerTable) when is_map(PerTable) ->
    maps:map(fun(Table, Options) -> ets:new(Table, Options) end, PerTable).

table_list(Tables) when is_map(Tables) -> maps:values(Tables);
table_list(Table) -> [Table].
