"""Reviews from other software: RevMan 5 XML, RevMan 5's analysis-data CSV export and the Cochrane data
package v1, each read into ``model.Review`` (``detect.read_source``) and written as a data folder
(``write.build_folder``)."""
